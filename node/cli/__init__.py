"""The ``signpost`` command (``commands``) and the three-network demo (``demo``).

The top of the house: it may use every layer and nothing imports it but the tests.
"""
