"""tap-events: the collector's spool of pushed data (Overland, OwnTracks, Health Auto Export, events) as bronze rows."""
