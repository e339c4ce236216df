"""Connectors: turn a spec's ``sources:`` entry into a polars LazyFrame."""
