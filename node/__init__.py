"""A Signpost node: one process, embedded SQLite, publishing and following signed feeds."""

__version__ = "0.1.0"
SOFTWARE = f"signpost/{__version__}"
