"""tap-openmeteo: weather where you were, from the Open-Meteo historical archive."""

from __future__ import annotations

from singer_sdk import typing as th

from bronze_core.http import api_settings, pace_setting
from bronze_core.tap import BronzeTap
from tap_openmeteo.streams import WeatherStream

LOCATION = th.ObjectType(
    th.Property("name", th.StringType, required=True),
    th.Property("latitude", th.NumberType, required=True),
    th.Property("longitude", th.NumberType, required=True),
)


class TapOpenMeteo(BronzeTap):
    """Historical weather (ERA5 archive) for named locations, one row per location and day."""

    name = "tap-openmeteo"
    stream_types = (WeatherStream,)

    config_jsonschema = th.PropertiesList(
        th.Property(
            "locations",
            th.ArrayType(LOCATION),
            required=True,
            description='Named places, e.g. [{"name": "home", "latitude": 52.52, "longitude": 13.41}].',
        ),
        th.Property("start_date", th.DateType, description="First day on a first run (default: 30 days ago)."),
        th.Property(
            "hourly",
            th.ArrayType(th.StringType),
            default=["temperature_2m", "relative_humidity_2m", "precipitation", "wind_speed_10m"],
            description="Hourly variables to ask for.",
        ),
        th.Property(
            "daily",
            th.ArrayType(th.StringType),
            default=["temperature_2m_max", "temperature_2m_min", "precipitation_sum", "sunrise", "sunset"],
            description="Daily variables to ask for.",
        ),
        th.Property(
            "timezone",
            th.StringType,
            default="auto",
            description="`auto` (the location's zone) or an IANA name; days are local days.",
        ),
        th.Property(
            "trailing_days",
            th.IntegerType,
            default=7,
            description="Days before the bookmark asked again each run (ERA5 lags ~5 days and revises recent days).",
        ),
        th.Property("chunk_days", th.IntegerType, default=92, description="Days per request."),
        pace_setting(5, "Open-Meteo allows 600 calls a minute and one at a time per IP."),
        *api_settings("https://archive-api.open-meteo.com/v1", "Archive API base URL"),
    ).to_dict()


if __name__ == "__main__":
    TapOpenMeteo.cli()
