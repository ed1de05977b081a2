"""tap-airtable: Airtable tables into bronze, one stream (and table) per Airtable table."""

from __future__ import annotations

from singer_sdk import typing as th

from bronze_core.http import api_settings, pace_setting, token_setting
from bronze_core.tap import BronzeTap
from tap_airtable.streams import TableStream

TABLE = th.CustomType(
    {
        "anyOf": [
            {"type": "string"},
            {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string"}, "last_modified_field": {"type": ["string", "null"]}},
            },
        ]
    }
)


class TapAirtable(BronzeTap):
    """Records of Airtable tables (inventories, body measurements...)."""

    name = "tap-airtable"

    config_jsonschema = th.PropertiesList(
        token_setting("Airtable personal access token (scope data.records:read, access to the base)."),
        th.Property("base_id", th.StringType, required=True, description="The base id (app...)."),
        th.Property(
            "tables",
            th.ArrayType(TABLE),
            required=True,
            description='Tables to read: names or ids, or objects {"name": ..., '
            '"last_modified_field": ...} naming a "Last modified time" field '
            "to read only changed records.",
        ),
        pace_setting(5, "Airtable allows 5 requests per second per base."),
        th.Property(
            "rate_limit_wait_seconds",
            th.IntegerType,
            default=30,
            description="Pause after a 429 (Airtable asks for 30 seconds).",
        ),
        *api_settings("https://api.airtable.com/v0", "Airtable API base URL"),
    ).to_dict()

    def discover_streams(self):
        tables = [t if isinstance(t, dict) else {"name": t} for t in self.config["tables"]]
        streams = [TableStream(self, table) for table in tables]
        names = [s.name for s in streams]
        clashes = {n for n in names if names.count(n) > 1}
        if clashes:
            raise ValueError(f"airtable: these tables map to the same stream name: {sorted(clashes)}")
        return streams


if __name__ == "__main__":
    TapAirtable.cli()
