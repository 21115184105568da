-- The tables of the warehouse's schemas that readers use ($schemas), in a stable order.
SELECT schema_name, table_name
FROM duckdb_tables()
WHERE database_name = current_database()
    AND schema_name IN (SELECT unnest($schemas::VARCHAR[]))
    AND NOT temporary
ORDER BY schema_name, table_name;
