"""Symbolic integer arithmetic and its notation: sizes, floors, canonical forms, printing.

The bottom of the package: nothing here imports a layer or a graph (docs/ARCHITECTURE.md).
"""
