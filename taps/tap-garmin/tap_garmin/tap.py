"""tap-garmin: Garmin Connect into bronze, from the web API or from a data export."""

from __future__ import annotations

from functools import cached_property

from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError

from bronze_core.file_streams import FILE_SETTINGS
from bronze_core.http import HTTP_SETTINGS, RequestSpec, ResponseShape, api_url_setting
from bronze_core.tap import BronzeTap
from tap_garmin.auth import GarminTokenAuth
from tap_garmin.streams import API_STREAMS


class TapGarmin(BronzeTap):
    """Garmin Connect sleep, daily summaries, heart rate, HRV, stress, Body Battery, activities."""

    name = "tap-garmin"

    config_jsonschema = th.PropertiesList(
        th.Property(
            "token_file",
            th.StringType,
            description="JSON file holding the Garmin DI OAuth `access_token` and "
            "`refresh_token` (e.g. saved by the garminconnect library). "
            "Refreshed tokens are written back to it.",
        ),
        th.Property("access_token", th.StringType, secret=True, description="Access token, if no token_file is used."),
        th.Property(
            "refresh_token",
            th.StringType,
            secret=True,
            description="Refresh token, if no token_file is used (the refreshed pair is then kept in memory only).",
        ),
        th.Property(
            "client_id",
            th.StringType,
            default="GARMIN_CONNECT_MOBILE_ANDROID_DI_2025Q2",
            description="DI OAuth client id used to refresh the access token.",
        ),
        th.Property(
            "display_name",
            th.StringType,
            description="Garmin display name used in wellness URLs; read from the profile when not set.",
        ),
        th.Property(
            "start_date",
            th.DateType,
            description="First calendar date to read on a first (or full-refresh) run (default: 30 days before today).",
        ),
        th.Property("end_date", th.DateType, description="Last calendar date to read (default: today, UTC)."),
        th.Property(
            "lookback_days",
            th.IntegerType,
            default=3,
            description="Days before the bookmark re-read on every run: Garmin rescores recent sleep and HRV.",
        ),
        th.Property(
            "activities_page_size", th.IntegerType, default=100, description="Activities per page of the activity list."
        ),
        api_url_setting("https://connectapi.garmin.com", "Garmin Connect API base URL"),
        th.Property(
            "auth_url",
            th.StringType,
            default="https://diauth.garmin.com/di-oauth2-service/oauth/token",
            description="Token refresh endpoint of Garmin's DI OAuth service.",
        ),
        th.Property(
            "export_path",
            th.StringType,
            description="A Garmin Connect data export (the zip, or its unpacked folder "
            "containing DI_CONNECT/). When set, the tap reads the export "
            "instead of the API.",
        ),
        th.Property(
            "mode",
            th.StringType,
            allowed_values=["api", "export"],
            description="`api` reads the Connect API, `export` the data export at "
            "`export_path` (required then). Default: `export` when "
            "`export_path` is set, else `api`.",
        ),
        *HTTP_SETTINGS,
        *FILE_SETTINGS,
    ).to_dict()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.config.get("mode") == "export" and not self.config.get("export_path"):
            message = self.missing_export_message()
            raise ConfigValidationError(message, errors=[message])

    def missing_export_message(self) -> str:
        """Why an export-mode run (the tap-garmin-export plugin) cannot start without export_path.

        There is no default: the bundled fake sample is for the demo environment
        only, so a first real run can never load it into the user's database.
        """
        plugin = self.plugin_name
        variable = f" (environment variable {plugin.upper().replace('-', '_')}_EXPORT_PATH, e.g. in .env)"
        return (
            f"{plugin}: mode is `export` but `export_path` is not set. Set "
            f"`export_path`{variable} to your Garmin Connect data export: the zip, or the "
            "folder it was unpacked to. The bundled fake sample (samples/garmin-export) is "
            "read only in the demo environment (`meltano --environment=demo ...`)."
        )

    @cached_property
    def garmin_auth(self) -> GarminTokenAuth:
        """One token holder for all streams, so a refresh is shared."""
        return GarminTokenAuth(dict(self.config), self.logger)

    @cached_property
    def display_name(self) -> str:
        """The account's display name, read once from the profile if not configured."""
        if self.config.get("display_name"):
            return self.config["display_name"]
        stream = self.streams["garmin__activities"]  # any API stream: same session and retries
        profile = stream.request_json(
            RequestSpec("/userprofile-service/socialProfile", shape=ResponseShape(dict, required=("displayName",)))
        )
        return profile["displayName"]

    @property
    def stream_types(self):
        """The export streams in export mode (``export_path`` set), else the API streams."""
        if self.config.get("mode", "export" if self.config.get("export_path") else "api") == "export":
            from tap_garmin.export_streams import EXPORT_STREAMS

            return EXPORT_STREAMS
        return API_STREAMS


if __name__ == "__main__":
    TapGarmin.cli()
