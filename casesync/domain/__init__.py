"""The pure domain of cross-province handling (跨省通办): no Kafka, no PostgreSQL.

- ``vocabulary``, ``events``: the shared case contract (states, event types, event values).
- ``regions``, ``items``, ``agreements``, ``workflows``: reference data types.
- ``catalogue`` and ``loading``: the reference data from ``data/*.json``, loaded once.
- ``lifecycle``: legal state transitions per handling mode.
- ``workdays`` and ``holidays``: working-day arithmetic on the official calendar.
- ``validation``: checks of a decoded event, each failure a typed error from ``errors``.
"""
