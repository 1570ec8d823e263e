"""Exporters: turn a derived network into text for people and machines."""

from .dot import render, to_dot
from .html import to_html
from .latex import to_latex
from .markdown import to_markdown
from .plot import plot
from .records import to_csv, to_json, to_records
from .text import to_text

__all__ = [
    "plot",
    "render",
    "to_csv",
    "to_dot",
    "to_html",
    "to_json",
    "to_latex",
    "to_markdown",
    "to_records",
    "to_text",
]
