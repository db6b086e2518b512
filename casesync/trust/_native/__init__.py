"""The compiled SHA-256 hashing, built by ``python -m casesync.trust._native``."""
