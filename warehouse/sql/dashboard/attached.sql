-- Whether the read copy is attached under $name (dashboards.snapshot.connect_read_only).
SELECT database_name FROM duckdb_databases() WHERE database_name = $name;
