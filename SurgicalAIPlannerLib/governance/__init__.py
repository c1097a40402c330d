"""Governance: hash-chained audit trail, surgeon sign-off, PS3.15 de-identification, atomic outputs."""
