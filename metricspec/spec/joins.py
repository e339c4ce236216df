"""How a source declares its keys and the sources it joins (many-to-one lookups).

Modelled on dbt-semantic-interfaces' entities: a source names its *primary* keys under ``entities``
(one row per value), and another source joins it through a *foreign* key column::

    sources:
      customers: {connector: csv, options: {path: customers.csv}, entities: {customer: customer_id}}
      orders:
        connector: csv
        options: {path: orders.csv}
        joins:
          - {source: customers, on: customer_id}

Every KPI on ``orders`` then reads the columns of ``customers`` as if they were its own (segments,
filters, scopes). The join is a left join: an order whose customer is missing keeps its row, with
null joined columns. Only many-to-one joins are allowed: a joined source with a repeated key is
refused when the sources are opened (``run`` and ``validate --data``).
"""

from __future__ import annotations

from pydantic import Field

from metricspec.spec.base import Name, StrictModel


class Join(StrictModel):
    """A many-to-one (lookup) join: each row of this source gets the columns of the one row of
    ``source`` whose key equals its ``on`` column (nulls when there is none)."""

    source: Name = Field(description="The source joined: it must have at most one row per key value.")
    on: str = Field(description="Column of this source holding the key (the foreign key), e.g. customer_id.")
    key: str | None = Field(
        None,
        description="Column of the joined source matched with `on`. Default: the joined source's entity column "
        "when it declares exactly one `entities:` key, otherwise the same name as `on`.",
    )
    columns: list[str] | None = Field(
        None,
        description="Columns of the joined source to bring (default: all but the key). Listing them is also how a "
        "name that both sources have is left out.",
    )
    prefix: str | None = Field(
        None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Prepended to the names of the columns brought, e.g. `customer_` gives customer_channel; "
        "how to keep a column whose name this source already has.",
    )

    def right_key(self, entities: dict[str, str]) -> str:
        """The joined source's key column, given that source's ``entities``."""
        if self.key is not None:
            return self.key
        if len(entities) == 1:
            return next(iter(entities.values()))
        return self.on
