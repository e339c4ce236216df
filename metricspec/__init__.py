"""metricspec: metrics as code for social-media and marketing measurement."""

from __future__ import annotations

import pluggy

__version__ = "0.1.0"

hookimpl = pluggy.HookimplMarker("metricspec")
"""Decorator for plugin hook implementations: ``@metricspec.hookimpl``."""

__all__ = ["__version__", "hookimpl"]
