"""The consumer side: a region mirrors its partner regions' case events, exactly once.

Modules, pure core first:
  records      values passed around: an incoming record, a rejection, stages
  errors       the consumer's typed errors (each says whether a retry can help)
  triage       decode + validate one record (typed errors → rejections)
  planning     sequence a batch per case: apply, ignore, hold a gap, dead-letter
  workflow     multi-region workflow answers to a mirrored event (pure)
  batching     adaptive batch size
  store        PostgreSQL reads and writes of one batch (COPY, version-guarded upsert)
  reactions    record workflow answers through the producer's recorder (same transaction)
  applier      one batch, one transaction; bisects database-refused records into dead letters
  dlq          dead-letter rows → the region's DLQ topic, with provenance headers
  runner       RegionConsumer: Kafka group, positions from PostgreSQL, retries
  rebalance    assignment changes, as the group coordinator reports them
  observing    Prometheus figures, once per committed batch
  database     the consumer's connection
  schema       migrations (``consumers/migrations``)
  digest       deterministic digests of owned and mirrored cases
  compose      composition root from the settings
  cli          ``casesync consume`` and ``casesync digest``
"""
