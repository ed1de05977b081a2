"""tap-hidrate: HidrateSpark smart bottle data through the app's (unofficial) Parse server."""

from __future__ import annotations

from functools import cached_property

from singer_sdk import typing as th

from bronze_core.http import api_settings
from bronze_core.tap import BronzeTap
from tap_hidrate.auth import HidrateSession
from tap_hidrate.streams import STREAMS


class TapHidrate(BronzeTap):
    """HidrateSpark sips, daily totals and bottles. Unofficial: may break when the app changes."""

    name = "tap-hidrate"
    stream_types = STREAMS

    config_jsonschema = th.PropertiesList(
        th.Property("username", th.StringType, required=True, description="HidrateSpark account e-mail."),
        th.Property("password", th.StringType, required=True, secret=True, description="Account password."),
        th.Property(
            "app_id",
            th.StringType,
            required=True,
            secret=True,
            description="The app's Parse application id (X-Parse-Application-Id).",
        ),
        th.Property(
            "client_key",
            th.StringType,
            required=True,
            secret=True,
            description="The app's Parse client key (X-Parse-Client-Key).",
        ),
        th.Property(
            "start_date",
            th.DateTimeType,
            description="Only objects updated on or after this on a first run (default: all).",
        ),
        # Parse answers at most 1000 objects; a larger limit would end the walk at the first page.
        th.Property(
            "page_size",
            th.IntegerType(maximum=1000),
            default=1000,
            description="Objects per request (Parse's `limit`, at most 1000).",
        ),
        *api_settings("https://www.hidrateapp.com/parse", "The app's Parse server URL"),
    ).to_dict()

    @cached_property
    def hidrate_session(self) -> HidrateSession:
        """One login shared by all streams."""
        return HidrateSession(dict(self.config))


if __name__ == "__main__":
    TapHidrate.cli()
