"""Typed records and specs for every concept; no I/O here."""
