"""Values a spec takes from the environment (``${PG_PASSWORD}``), kept out of every message.

Connector options that take environment variables (a database URI, a Spark master) expand them
with :func:`metricspec.connectors.uris.expand_env`, which registers each value here. Everything the
command line prints goes through :mod:`metricspec.streams`, which replaces every registered value
with the name it came from (``${PG_HOST}``), so a host, user, database name or token in a connection
string never reaches an error message, a log line or ``--explain``.
"""

from __future__ import annotations

import threading

MIN_LENGTH = 3
"""Shorter values are not masked: one or two characters would garble every message, and are no secret."""

_VALUES: dict[str, str] = {}
_LOCK = threading.Lock()


def register(name: str, value: str) -> None:
    """Mask ``value`` (the environment variable ``name``) in everything printed from now on."""
    if len(value) >= MIN_LENGTH:
        with _LOCK:
            _VALUES[value] = name


def mask(text: str) -> str:
    """``text`` with every registered value replaced by ``${NAME}`` (longest values first)."""
    if not _VALUES or not text:
        return text
    with _LOCK:
        items = sorted(_VALUES.items(), key=lambda item: -len(item[0]))
    for value, name in items:
        if value in text:
            text = text.replace(value, f"${{{name}}}")
    return text


def forget() -> None:
    """Forget every registered value (tests)."""
    with _LOCK:
        _VALUES.clear()
