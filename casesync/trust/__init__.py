"""Trust: every event signed by the region that owns its case, verified before it is applied.

A pure core, no Kafka or PostgreSQL: keys and key ids (``keys``), the signed federation manifest
that lists them (``manifest``) and the holder that decides which manifest to trust (``holder``),
the batch hash tree (``tree``), the signature headers (``headers``), batch signing (``signing``)
and verification (``verify``). ``suites`` says which signature algorithms are usable here;
``native`` loads the compiled SHA-256 work of signing and verifying (``hashing.pyx``), which
Python does the same way when it is not built.
"""
