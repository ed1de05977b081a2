"""tap-garmin: Garmin Connect into bronze, from the web API or from a data export."""

from __future__ import annotations

from functools import cached_property

from singer_sdk import typing as th

from bronze_core.file_streams import FILE_SETTINGS
from bronze_core.http import HTTP_SETTINGS, ResponseShape
from bronze_core.tap import BronzeTap
from tap_garmin.auth import GarminTokenAuth
from tap_garmin.streams import API_STREAMS

class TapGarmin(BronzeTap):
    """Garmin Connect sleep, daily summaries, heart rate, HRV, stress, Body Battery, activities."""

    name = "tap-garmin"
    package_name = "tap-garmin"
    secret_settings = ("access_token", "refresh_token")

    config_jsonschema = th.PropertiesList(
        th.Property("token_file", th.StringType,
                    description="JSON file holding the Garmin DI OAuth `access_token` and "
                                "`refresh_token` (e.g. saved by the garminconnect library). "
                                "Refreshed tokens are written back to it."),
        th.Property("access_token", th.StringType, secret=True,
                    description="Access token, if no token_file is used."),
        th.Property("refresh_token", th.StringType, secret=True,
                    description="Refresh token, if no token_file is used (the refreshed pair is "
                                "then kept in memory only)."),
        th.Property("client_id", th.StringType, default="GARMIN_CONNECT_MOBILE_ANDROID_DI_2025Q2",
                    description="DI OAuth client id used to refresh the access token."),
        th.Property("display_name", th.StringType,
                    description="Garmin display name used in wellness URLs; read from the "
                                "profile when not set."),
        th.Property("start_date", th.DateType,
                    description="First calendar date to read on a first (or full-refresh) run "
                                "(default: 30 days before today)."),
        th.Property("end_date", th.DateType,
                    description="Last calendar date to read (default: today, UTC)."),
        th.Property("lookback_days", th.IntegerType, default=3,
                    description="Days before the bookmark re-read on every run: Garmin rescores "
                                "recent sleep and HRV."),
        th.Property("activities_page_size", th.IntegerType, default=100,
                    description="Activities per page of the activity list."),
        th.Property("api_url", th.StringType, default="https://connectapi.garmin.com",
                    description="Garmin Connect API base URL (a local fake server in tests)."),
        th.Property("auth_url", th.StringType,
                    default="https://diauth.garmin.com/di-oauth2-service/oauth/token",
                    description="Token refresh endpoint of Garmin's DI OAuth service."),
        th.Property("export_path", th.StringType,
                    description="A Garmin Connect data export (the zip, or its unpacked folder "
                                "containing DI_CONNECT/). When set, the tap reads the export "
                                "instead of the API."),
        *HTTP_SETTINGS,
        *FILE_SETTINGS,
    ).to_dict()

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
        response = stream.request_once(
            self.config["api_url"].rstrip("/") + "/userprofile-service/socialProfile",
            shape=ResponseShape(dict, required=("displayName",)),
        )
        return stream.response_json(response)["displayName"]

    @property
    def stream_types(self):
        """The export streams when ``export_path`` is set, else the API streams."""
        if self.config.get("export_path"):
            from tap_garmin.export_streams import EXPORT_STREAMS

            return EXPORT_STREAMS
        return API_STREAMS


if __name__ == "__main__":
    TapGarmin.cli()
