"""Following other networks: fetching a peer's pages (``fetch``), walking a feed and checking
each page (``walk``), peers' bookkeeping (``peers``), pulling and merging (``sync``), polling
on a schedule (``scheduler``), verification in worker processes (``verifier``), the
conformance check of any feed (``checkfeed``), a publisher's identity fetched for
``keys recover --from`` (``recover``) and peer health (``health``).

Owns: every byte that arrives from another node, until it is verified and handed to storage.
May use: ``protocol``, ``node.core``, ``node.storage``.  Never imports the web or the CLI.
"""
