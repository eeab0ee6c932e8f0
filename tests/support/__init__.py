"""Test helpers shared by Signpost's test modules: a thin layer over Playwright driving the
system's headless Chromium, with axe-core (``support.browser``), OpenActive's RPDE validator
(``support.rpde``) and their pytest fixtures (``support.fixtures``). Imported as
``support.*``: pytest puts tests/ on sys.path."""
