"""One stream per Fitabase file kind: which file, what identifies a row, when it happened.

Column names follow the public "Fitbit Fitness Tracker Data" export
(Fitabase). The wide minute files have one column per minute of the hour
(``Steps00`` ... ``Steps59``); they are kept as they are.
"""

from __future__ import annotations

from tap_wearable_csv.client import FitabaseStream


class ActivityDayStream(FitabaseStream):
    """A daily file keyed by person and ``ActivityDay``."""

    key_fields = ("Id", "ActivityDay")
    time_field = "ActivityDay"
    time_aliases = ("ActivityDate",)  # what spreadsheet re-saves of the public set call it
    daily = True


class ActivityHourStream(FitabaseStream):
    """An hourly file (or a wide minute file, one row per hour) keyed by person and ``ActivityHour``."""

    key_fields = ("Id", "ActivityHour")
    time_field = "ActivityHour"


class ActivityMinuteStream(FitabaseStream):
    """A narrow minute file keyed by person and ``ActivityMinute``."""

    key_fields = ("Id", "ActivityMinute")
    time_field = "ActivityMinute"


class DailyActivityStream(FitabaseStream):
    name = "wearable__daily_activity"
    file_name = "dailyActivity_merged.csv"
    key_fields = ("Id", "ActivityDate")
    time_field = "ActivityDate"
    time_aliases = ("ActivityDay",)
    daily = True


class DailyCaloriesStream(ActivityDayStream):
    name = "wearable__daily_calories"
    file_name = "dailyCalories_merged.csv"


class DailyIntensitiesStream(ActivityDayStream):
    name = "wearable__daily_intensities"
    file_name = "dailyIntensities_merged.csv"


class DailyStepsStream(ActivityDayStream):
    name = "wearable__daily_steps"
    file_name = "dailySteps_merged.csv"


class HeartrateSecondsStream(FitabaseStream):
    """About 2.5 million rows in the public set: read streaming, resumed when appended."""

    name = "wearable__heartrate_seconds"
    file_name = "heartrate_seconds_merged.csv"
    key_fields = ("Id", "Time")
    time_field = "Time"


class HourlyCaloriesStream(ActivityHourStream):
    name = "wearable__hourly_calories"
    file_name = "hourlyCalories_merged.csv"


class HourlyIntensitiesStream(ActivityHourStream):
    name = "wearable__hourly_intensities"
    file_name = "hourlyIntensities_merged.csv"


class HourlyStepsStream(ActivityHourStream):
    name = "wearable__hourly_steps"
    file_name = "hourlySteps_merged.csv"


class MinuteCaloriesNarrowStream(ActivityMinuteStream):
    name = "wearable__minute_calories_narrow"
    file_name = "minuteCaloriesNarrow_merged.csv"


class MinuteCaloriesWideStream(ActivityHourStream):
    name = "wearable__minute_calories_wide"
    file_name = "minuteCaloriesWide_merged.csv"


class MinuteIntensitiesNarrowStream(ActivityMinuteStream):
    name = "wearable__minute_intensities_narrow"
    file_name = "minuteIntensitiesNarrow_merged.csv"


class MinuteIntensitiesWideStream(ActivityHourStream):
    name = "wearable__minute_intensities_wide"
    file_name = "minuteIntensitiesWide_merged.csv"


class MinuteMetsNarrowStream(ActivityMinuteStream):
    name = "wearable__minute_mets_narrow"
    file_name = "minuteMETsNarrow_merged.csv"


class MinuteSleepStream(FitabaseStream):
    """One row per minute of a sleep log; a minute can sit in two overlapping logs."""

    name = "wearable__minute_sleep"
    file_name = "minuteSleep_merged.csv"
    key_fields = ("Id", "date", "logId")
    time_field = "date"


class MinuteStepsNarrowStream(ActivityMinuteStream):
    name = "wearable__minute_steps_narrow"
    file_name = "minuteStepsNarrow_merged.csv"


class MinuteStepsWideStream(ActivityHourStream):
    name = "wearable__minute_steps_wide"
    file_name = "minuteStepsWide_merged.csv"


class SleepDayStream(FitabaseStream):
    """Nightly sleep; the real file has exact duplicate rows, which land once."""

    name = "wearable__sleep_day"
    file_name = "sleepDay_merged.csv"
    key_fields = ("Id", "SleepDay")
    time_field = "SleepDay"
    daily = True


class WeightLogInfoStream(FitabaseStream):
    name = "wearable__weight_log_info"
    file_name = "weightLogInfo_merged.csv"
    key_fields = ("Id", "LogId")
    time_field = "Date"


STREAM_TYPES = (
    DailyActivityStream,
    DailyCaloriesStream,
    DailyIntensitiesStream,
    DailyStepsStream,
    HeartrateSecondsStream,
    HourlyCaloriesStream,
    HourlyIntensitiesStream,
    HourlyStepsStream,
    MinuteCaloriesNarrowStream,
    MinuteCaloriesWideStream,
    MinuteIntensitiesNarrowStream,
    MinuteIntensitiesWideStream,
    MinuteMetsNarrowStream,
    MinuteSleepStream,
    MinuteStepsNarrowStream,
    MinuteStepsWideStream,
    SleepDayStream,
    WeightLogInfoStream,
)
