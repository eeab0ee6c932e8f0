"""Publishing this node's own records: signing and sequencing versions and tombstones
(``publisher``), the signing and recovery keys on disk (``keystore``), key rotation,
revocation and recovery (``keyops``) and creating a new node (``lifecycle``).

Owns: the node's identity and everything it signs.
May use: ``protocol``, ``node.core``, ``node.storage``.  Never imports the web or the CLI.
"""
