"""SQLite storage through sqlite-utils: one file under data/, schema changed only by migrations."""
