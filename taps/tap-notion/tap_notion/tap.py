"""tap-notion: Notion database pages into bronze."""

from __future__ import annotations

from singer_sdk import typing as th

from bronze_core.http import api_settings, pace_setting, token_setting
from bronze_core.tap import BronzeTap
from tap_notion.streams import STREAMS


class TapNotion(BronzeTap):
    """Pages of Notion databases (custom trackers, habits, journals)."""

    name = "tap-notion"
    stream_types = STREAMS

    config_jsonschema = th.PropertiesList(
        token_setting("Notion integration token (share each database with the integration)."),
        th.Property(
            "database_ids",
            th.ArrayType(th.StringType),
            required=True,
            description="Ids of the databases to read (from each database's URL).",
        ),
        th.Property(
            "start_date",
            th.DateTimeType,
            description="Only pages edited on or after this time on a first run (default: all).",
        ),
        th.Property(
            "notion_version",
            th.StringType,
            default="2025-09-03",
            description="Notion-Version header; 2025-09-03 and later query data sources.",
        ),
        pace_setting(3, "Notion allows an average of about 3 requests per second."),
        *api_settings("https://api.notion.com/v1", "Notion API base URL"),
    ).to_dict()


if __name__ == "__main__":
    TapNotion.cli()
