"""Keys, usage and schema migrations (SQLite by default, PostgreSQL by URL)."""
