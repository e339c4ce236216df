"""What the row-level and window kinds compute in polars: rows of a source (funnels, retention, tenure,
cohorts), date windows of a base KPI, survival curves.

The kinds' methods import these modules when a series is computed, never when a spec is loaded or
validated (they import polars).
"""
