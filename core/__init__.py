"""Settings, database access, the clock and error types shared by every layer (imports nothing of ours)."""
