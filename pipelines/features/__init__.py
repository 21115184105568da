"""Pure Polars feature transforms."""
