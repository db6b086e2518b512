"""The HTTP intake (``casesync serve``): regional systems that cannot share the region's database
record changes over HTTP, through the same ``casesync_api.record_change`` as SQL callers.

Pure parts: ``problems`` (every answer code and its status), ``requests`` (the JSON body and the
idempotency key), ``tokens`` (bearer tokens and their digests). Edges: ``store`` (PostgreSQL),
``web`` (starlette), ``cli`` (the commands). ``openapi.json`` documents the API.
"""
