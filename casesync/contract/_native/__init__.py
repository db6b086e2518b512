"""Compiled case event decoders, built by ``python -m casesync.contract._native``."""
