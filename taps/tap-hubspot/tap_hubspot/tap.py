"""tap-hubspot: HubSpot CRM objects into bronze through the search API."""

from __future__ import annotations

from singer_sdk import typing as th

from bronze_core.http import HTTP_SETTINGS
from bronze_core.tap import BronzeTap
from tap_hubspot.streams import OBJECTS, ObjectStream


class TapHubspot(BronzeTap):
    """HubSpot contacts, companies and engagements (calls, emails, meetings, notes, tasks)."""

    name = "tap-hubspot"
    package_name = "tap-hubspot"
    secret_settings = ("api_token",)

    config_jsonschema = th.PropertiesList(
        th.Property("api_token", th.StringType, required=True, secret=True,
                    description="Private app access token (CRM read scopes)."),
        th.Property("objects", th.ArrayType(th.StringType), default=list(OBJECTS),
                    description="Object types to read: " + ", ".join(OBJECTS) + "."),
        th.Property("properties", th.ObjectType(additional_properties=th.ArrayType(th.StringType)),
                    description='Properties to request per object type, e.g. {"contacts": ["email"]} '
                                "(default: every property, read from /crm/v3/properties/{object})."),
        th.Property("start_date", th.DateTimeType,
                    description="Only objects modified on or after this on a first run (default: all)."),
        th.Property("requests_per_second", th.NumberType, default=4,
                    description="HubSpot allows about 5 search requests per second."),
        th.Property("api_url", th.StringType, default="https://api.hubapi.com",
                    description="HubSpot API base URL (a local fake server in tests)."),
        *HTTP_SETTINGS,
    ).to_dict()

    def discover_streams(self):
        return [ObjectStream(self, object_type) for object_type in self.config.get("objects") or OBJECTS]


if __name__ == "__main__":
    TapHubspot.cli()
