"""Validity: conditions, their simplification, exact integer solving, and queries on them."""
