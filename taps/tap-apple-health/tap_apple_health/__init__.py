"""tap-apple-health: an Apple Health export into bronze."""
