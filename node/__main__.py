"""``python -m node`` is ``signpost``.

The guard matters: verification workers are spawned processes, which import
the parent's ``__main__`` module under another name; without it each worker
would run the command line again.
"""

from node.cli.commands import main

if __name__ == "__main__":
    main()
