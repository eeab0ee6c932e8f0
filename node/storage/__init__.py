"""Everything the node keeps on disk: the SQLite schema and its numbered migrations
(``schema``), connections and transactions (``store``), the record ledger with its merge
rules applied (``ledger``), the search index (``index``) and the console's own tables
(``console``: sessions, reports, sheet runs).

Owns: every ``CREATE``, ``INSERT``, ``UPDATE`` and ``DELETE`` outside the directory's read
queries.
May use: ``protocol`` and ``node.core``.  Never imports federation, the web or the CLI.
"""
