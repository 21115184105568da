"""The DuckDB warehouse: connections, the landing zone, the loader and the SQL models."""
