"""Garmin Connect data-export streams: the same kinds of data, read from the export files.

Export payloads differ from the web API's (sleep times are zone-less GMT text,
activity distances are in centimetres), so they land in their own tables,
``garmin__export_*``, exactly as the files hold them.
"""

from __future__ import annotations

from pathlib import Path

from bronze_core.fields import EPOCH_MS, When
from bronze_core.file_streams import BronzeFileStream
from bronze_core.files.json_arrays import iter_json_array
from tap_garmin.client import SCHEMAS_DIR


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

    key_fields = ("calendarDate",)
    time_field = (When("sleepStartTimestampGMT", EPOCH_MS), When("calendarDate"))


class ExportDailySummaryStream(GarminExportStream):
    """Daily summaries from ``DI-Connect-Aggregator/UDSFile_*.json`` (files overlap; repeats are no-ops)."""

    name = "garmin__export_daily_summary"
    file_patterns = ("*DI-Connect-Aggregator/UDSFile_*.json",)

    key_fields = ("calendarDate",)
    time_field = (When("wellnessStartTimeGmt", EPOCH_MS), When("calendarDate"))


class ExportActivitiesStream(GarminExportStream):
    """Activities from ``DI-Connect-Fitness/*_summarizedActivities.json``."""

    name = "garmin__export_activities"
    file_patterns = ("*DI-Connect-Fitness/*_summarizedActivities.json",)

    def read_items(self, source, resume=None):
        # The file is [{"summarizedActivitiesExport": [activity, ...]}].
        for index, item in iter_json_array(source, prefix="item.summarizedActivitiesExport.item"):
            yield {"item": index}, item

    key_fields = ("activityId",)
    time_field = (When("startTimeGmt", EPOCH_MS), When("beginTimestamp", EPOCH_MS))


EXPORT_STREAMS = [ExportSleepStream, ExportDailySummaryStream, ExportActivitiesStream]
