"""Outputs: terminal table, JSON, CSV, Markdown, JUnit and HTML scorecards."""
