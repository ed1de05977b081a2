"""tap-openmeteo: historical weather per named location and day, as bronze rows."""
