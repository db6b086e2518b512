"""Compiled case event codecs, built by ``python -m casesync.contract._native``."""
