"""The HTTP face of a node: the app factory (``app``), templates (``templating``), the
console's sign-in (``auth``, ``passwords``) and the views, one module per page group.

Owns: requests and responses.  Views call functions of the layers below; they never hold
SQL and never reach a private name of another module.
May use: every layer below it (core, storage, directory, exports, importer, publishing,
federation).  Only the CLI and the tests import the web.
"""
