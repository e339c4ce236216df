"""Evaluation engine: KPIs, goals, control groups and attribution on polars."""
