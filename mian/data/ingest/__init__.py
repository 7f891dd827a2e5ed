"""Ingestion of raw click logs: parse, validate, join, build behavior histories, split by time."""
