"""Garmin Connect data-export streams: the same kinds of data, read from the export files.

Export payloads differ from the web API's (sleep times are zone-less GMT text,
activity distances are in centimetres), so they land in their own tables,
``garmin__export_*``, exactly as the files hold them.
"""

from __future__ import annotations

from pathlib import Path

from bronze_core.file_streams import BronzeFileStream
from bronze_core.files.json_arrays import iter_json_array
from tap_garmin.client import SCHEMAS_DIR, calendar_day, gmt


class GarminExportStream(BronzeFileStream):
    """Reads one kind of file from the export named by ``export_path``."""

    source = "garmin"
    schemas_dir = SCHEMAS_DIR

    def files_root(self) -> Path:
        return Path(self.config["export_path"])


class ExportSleepStream(GarminExportStream):
    """Nights from ``DI-Connect-Wellness/*_sleepData.json``."""

    name = "garmin__export_sleep"
    file_patterns = ("*DI-Connect-Wellness/*_sleepData.json",)

    def payload_id(self, payload, lineage):
        return payload["calendarDate"]

    def payload_time(self, payload):
        return gmt(payload.get("sleepStartTimestampGMT")) or calendar_day(payload.get("calendarDate"))


class ExportDailySummaryStream(GarminExportStream):
    """Daily summaries from ``DI-Connect-Aggregator/UDSFile_*.json`` (files overlap; repeats are no-ops)."""

    name = "garmin__export_daily_summary"
    file_patterns = ("*DI-Connect-Aggregator/UDSFile_*.json",)

    def payload_id(self, payload, lineage):
        return payload["calendarDate"]

    def payload_time(self, payload):
        return gmt(payload.get("wellnessStartTimeGmt")) or calendar_day(payload.get("calendarDate"))


class ExportActivitiesStream(GarminExportStream):
    """Activities from ``DI-Connect-Fitness/*_summarizedActivities.json``."""

    name = "garmin__export_activities"
    file_patterns = ("*DI-Connect-Fitness/*_summarizedActivities.json",)

    def read_items(self, source, resume=None):
        # The file is [{"summarizedActivitiesExport": [activity, ...]}].
        for index, item in iter_json_array(source, prefix="item.summarizedActivitiesExport.item"):
            yield {"item": index}, item

    def payload_id(self, payload, lineage):
        return payload["activityId"]

    def payload_time(self, payload):
        return gmt(payload.get("startTimeGmt")) or gmt(payload.get("beginTimestamp"))


EXPORT_STREAMS = [ExportSleepStream, ExportDailySummaryStream, ExportActivitiesStream]
