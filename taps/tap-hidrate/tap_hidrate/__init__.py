"""tap-hidrate: HidrateSpark bottle sips, daily totals and bottles as bronze rows (unofficial API)."""
