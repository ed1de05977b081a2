"""tap-garmin: Garmin Connect sleep, daily summaries, heart rate and activities as bronze rows."""
