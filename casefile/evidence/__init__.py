"""The evidence log: encrypted, hashed, append-only files and notes with a custody trail."""
