"""The compiled batch-mate check, built by ``python -m casesync.trust._native``."""
