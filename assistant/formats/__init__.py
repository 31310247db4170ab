"""Format parsers: one per file format, registered by name (see base.py)."""
