"""tap-wearable-csv: Fitbit history from CSV exports in the Fitabase format."""
