"""The HTTP collector for pushed sources (Overland, OwnTracks, Health Auto Export, your own events).

``make collector`` runs it (``python -m collector``); what it accepts waits in the
spool until ``meltano run tap-events target-postgres`` lands it. See docs/collector.md.
"""
