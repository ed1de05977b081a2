"""tap-hubspot: HubSpot CRM objects into bronze through the search API."""

from __future__ import annotations

from singer_sdk import typing as th

from bronze_core.http import api_settings, pace_setting, token_setting
from bronze_core.tap import BronzeTap
from tap_hubspot.streams import OBJECTS, ObjectStream


class TapHubspot(BronzeTap):
    """HubSpot contacts, companies and engagements (calls, emails, meetings, notes, tasks)."""

    name = "tap-hubspot"

    config_jsonschema = th.PropertiesList(
        token_setting("Private app access token (CRM read scopes)."),
        th.Property(
            "objects",
            th.ArrayType(th.StringType),
            default=list(OBJECTS),
            description="Object types to read: " + ", ".join(OBJECTS) + ".",
        ),
        th.Property(
            "properties",
            th.ObjectType(additional_properties=th.ArrayType(th.StringType)),
            description='Properties to request per object type, e.g. {"contacts": ["email"]} '
            "(default: every property, read from /crm/v3/properties/{object}).",
        ),
        th.Property(
            "start_date",
            th.DateTimeType,
            description="Only objects modified on or after this on a first run (default: all).",
        ),
        pace_setting(4, "HubSpot allows about 5 search requests per second."),
        *api_settings("https://api.hubapi.com", "HubSpot API base URL"),
    ).to_dict()

    def discover_streams(self):
        return [ObjectStream(self, object_type) for object_type in self.config.get("objects") or OBJECTS]


if __name__ == "__main__":
    TapHubspot.cli()
