"""tap-manual: hand-kept logs (water intake, body measurements, anything) from CSV or JSON Lines files."""
