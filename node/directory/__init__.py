"""The directory people search: parsing search filters (``filters``), places and distances
(``geo``), recurrence and next dates (``schedule``), the search queries themselves
(``search``) and the filtered slices served to embeds and followers (``slices``).

Owns: every read query behind a search, a listing page, an embed or a slice.
May use: ``protocol``, ``node.core``, ``node.storage``.  Never imports the web or the CLI.
"""
