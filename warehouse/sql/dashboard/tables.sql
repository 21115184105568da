-- The tables and views present, as schema.name.
SELECT schema_name || '.' || table_name AS name FROM duckdb_tables()
UNION ALL
SELECT schema_name || '.' || view_name FROM duckdb_views() WHERE NOT internal;
