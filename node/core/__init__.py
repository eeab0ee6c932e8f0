"""The node's foundations: settings (``config``), the error every layer raises (``errors``)
and the running node's shared parts (``context``).

Owns: reading and writing ``signpost.toml``, ``NodeError``, the ``Node`` handle views reach
through one AppKey, and the node's clock.
May use: ``protocol`` and ``node.storage`` (for the store's type only).  Nothing here imports
federation, publishing, the importer, the directory or the web: those parts are typed by
Protocols so the layers below never learn of the ones above.
"""
