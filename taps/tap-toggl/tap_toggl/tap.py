"""tap-toggl: Toggl Track into bronze, within Toggl's small hourly quotas."""

from __future__ import annotations

from singer_sdk import typing as th

from bronze_core.http import api_settings, token_setting
from bronze_core.tap import BronzeTap
from tap_toggl.streams import STREAMS


class TapToggl(BronzeTap):
    """Toggl Track time entries, workspaces, projects, clients and tags."""

    name = "tap-toggl"
    stream_types = STREAMS

    config_jsonschema = th.PropertiesList(
        token_setting("Toggl Track API token (Profile settings, API Token)."),
        th.Property(
            "start_date",
            th.DateType,
            description="First day of time entries to read on a first run "
            "(default: 90 days ago; Toggl serves about three months).",
        ),
        th.Property(
            "max_requests_per_run",
            th.IntegerType,
            default=25,
            description="Stop cleanly, state saved, after this many requests. Toggl "
            "allows 30 requests an hour on the free plan (and 30 an hour to "
            "/me on every plan); over quota it answers HTTP 402.",
        ),
        *api_settings("https://api.track.toggl.com/api/v9", "Toggl Track API base URL"),
    ).to_dict()


if __name__ == "__main__":
    TapToggl.cli()
