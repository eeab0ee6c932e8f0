"""``python -m node`` is ``signpost``."""

from .cli import main

main()
