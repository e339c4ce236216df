"""The connector contract, shared by built-in and third-party connectors: :class:`Connector`,
:class:`ConnectorOptions` and :class:`SourceContext`.

They are defined in :mod:`metricspec.hooktypes`, below the hook specifications that name them, and
re-exported here, where metricspec's connectors and older plugins import them.
"""

from __future__ import annotations

from metricspec.hooktypes import Connector, ConnectorOptions, SourceContext

__all__ = ["Connector", "ConnectorOptions", "SourceContext"]
