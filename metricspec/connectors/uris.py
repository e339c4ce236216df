"""Connection strings: environment variables, read-only sessions and what messages may show.

* :func:`expand_env` — ``${NAME}`` in the connector options that take it (a database URI, a Spark
  master), each value registered with :mod:`metricspec.envsecrets` so that nothing prints it;
* :func:`no_session_options` and :func:`read_only_uri` — a PostgreSQL URI may not set the session's
  options, and metricspec opens it read-only where it can;
* :func:`redact` — a URI's password hidden in messages.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlparse

from metricspec.envsecrets import register

if TYPE_CHECKING:
    from metricspec.connectors.base import SourceContext

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_env(text: str, context: SourceContext) -> str:
    """``${NAME}`` replaced by the environment variable NAME (credentials stay out of the spec).

    Only connector options that take environment variables call this (a database URI, a Spark master
    and settings); every value is registered with :mod:`metricspec.envsecrets`, so no message, log line
    or ``--explain`` prints it."""
    def value(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in os.environ:
            raise context.error(f"environment variable {name} is not set",
                                hint=f"export {name}=... before running (it is used in the connection string)")
        register(name, os.environ[name])
        return os.environ[name]

    return _ENV.sub(value, text)


def _postgres(scheme: str) -> bool:
    return scheme.split("+")[0] in ("postgres", "postgresql")


def no_session_options(uri: str, scheme: str, context: SourceContext) -> None:
    """A PostgreSQL URI may not set the server's session options (``?options=-c
    default_transaction_read_only=off``): metricspec sets the session read-only itself."""
    if _postgres(scheme) and any(key.lower() == "options" for key in parse_qs(urlparse(uri).query)):
        raise context.error("the URI sets the server's session options (`options=`), which could undo the read-only "
                            "session", hint="set them on the database user instead (ALTER ROLE … SET …)")


def read_only_uri(uri: str, scheme: str) -> str:
    """``uri`` opening a read-only session: for PostgreSQL, ``default_transaction_read_only=on`` (connectorx
    and SQLAlchemy pass ``options`` on), so a SELECT that calls a writing function fails too. Other
    databases: as it is. Not for the ibis connection that computes KPIs in the database: a join sends
    a local source's keys there as a temporary table, which a read-only session refuses."""
    if not _postgres(scheme):
        return uri
    joiner = "&" if "?" in uri else "?"
    return f"{uri}{joiner}options=-c%20default_transaction_read_only%3Don"


def redact(uri: str) -> str:
    """Hide the password of a URI in messages."""
    return re.sub(r"(://[^:/@]+):.*@(?=[^@]*$)", r"\1:***@", uri)
