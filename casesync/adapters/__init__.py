"""Thin adapters at the edge: Kafka (kafka-python) and PostgreSQL (psycopg2)."""
