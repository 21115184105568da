-- The tables of the attached reader copy ($database), to count what was copied.
SELECT schema_name, table_name
FROM duckdb_tables()
WHERE database_name = $database
ORDER BY schema_name, table_name;
