"""Other shapes of the directory for other software: iCalendar (``calendar``), Open Referral
UK 3.0 (``openreferral``) and the OpenAPI description of the JSON API (``openapi``).

A new export is one module here with a pure function from records to bytes, and one route in
``node.web.views``.  May use: ``protocol``, ``node.core``, ``node.directory``.
"""
