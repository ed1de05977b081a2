"""tap-notion: Notion database pages into bronze."""

from __future__ import annotations

from singer_sdk import typing as th

from bronze_core.http import HTTP_SETTINGS
from bronze_core.tap import BronzeTap
from tap_notion.streams import STREAMS


class TapNotion(BronzeTap):
    """Pages of Notion databases (custom trackers, habits, journals)."""

    name = "tap-notion"
    package_name = "tap-notion"
    secret_settings = ("api_token",)
    stream_types = STREAMS

    config_jsonschema = th.PropertiesList(
        th.Property("api_token", th.StringType, required=True, secret=True,
                    description="Notion integration token (share each database with the integration)."),
        th.Property("database_ids", th.ArrayType(th.StringType), required=True,
                    description="Ids of the databases to read (from each database's URL)."),
        th.Property("start_date", th.DateTimeType,
                    description="Only pages edited on or after this time on a first run (default: all)."),
        th.Property("notion_version", th.StringType, default="2025-09-03",
                    description="Notion-Version header; 2025-09-03 and later query data sources."),
        th.Property("requests_per_second", th.NumberType, default=3,
                    description="Notion allows an average of about 3 requests per second."),
        th.Property("api_url", th.StringType, default="https://api.notion.com/v1",
                    description="Notion API base URL (a local fake server in tests)."),
        *HTTP_SETTINGS,
    ).to_dict()


if __name__ == "__main__":
    TapNotion.cli()
