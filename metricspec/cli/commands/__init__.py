"""Click commands that live outside cli/__init__.py (registered on the main group there).

Modules here import only click at import time; heavy imports happen inside the commands.
"""
