"""Blending: weighted merges of the source adapters (merge.py) and the variant registry (registry.py)."""
