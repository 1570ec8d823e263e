"""Exporters: turn a derived network into text for people and machines."""

from .text import to_text

__all__ = ["to_text"]
