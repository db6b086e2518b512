"""The ops console: one read-only web page of the federation now and over the last hour.

``federation`` and ``history`` are pure (reports in, JSON-able views out); ``sampler`` runs
``ops status``'s own ``check_region`` for each watched region in the background; ``web`` serves
the page, its assets (all in the package, nothing from a CDN) and the latest view.
"""
