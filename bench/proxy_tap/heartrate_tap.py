"""A stand-in heart-rate CSV tap, for profiling the shared envelope before tap-wearable-csv exists.

Not a product tap and not a Meltano plugin: it runs standalone
(``python bench/proxy_tap/heartrate_tap.py --config cfg.json > /dev/null``)
so the per-record cost of bronze_core (CSV reader, to_bronze, envelope,
message writer) can be timed and profiled without Meltano or a target.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from singer_sdk import typing as th

from bronze_core.file_streams import BronzeFileStream
from bronze_core.files import iter_csv_rows
from bronze_core.tap import BronzeTap

SCHEMAS = Path(__file__).parent / "schemas"


class HeartRateSeconds(BronzeFileStream):
    name = "fitbit__heartrate_seconds"
    source = "fitbit"
    schemas_dir = SCHEMAS
    file_patterns = ("*heartrate_seconds_merged.csv",)
    appendable = True

    def files_root(self):
        return Path(self.config["data_dir"])

    def read_items(self, source, resume=None):
        return iter_csv_rows(source, resume)

    def payload_id(self, payload, lineage):
        return f"{payload['Id']}:{payload['Time']}"

    def payload_time(self, payload):
        return dt.datetime.strptime(payload["Time"], "%m/%d/%Y %I:%M:%S %p").replace(tzinfo=dt.UTC)


class ProxyTap(BronzeTap):
    name = "tap-proxy-heartrate"
    config_jsonschema = th.PropertiesList(th.Property("data_dir", th.StringType, required=True)).to_dict()
    stream_types = (HeartRateSeconds,)


if __name__ == "__main__":
    ProxyTap.cli()
