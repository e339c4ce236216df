"""Click commands that live outside cli.py (registered on the main group there).

Modules here import only click at import time; heavy imports happen inside the commands.
"""
