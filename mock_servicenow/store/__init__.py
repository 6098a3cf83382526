"""Storage: SQLite through sqlite-utils. Nothing above this layer writes SQL."""
