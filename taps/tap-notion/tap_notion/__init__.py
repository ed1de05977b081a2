"""tap-notion: pages of Notion databases (trackers, habits, journals) as bronze rows."""
