"""One stream per Fitabase file kind: which file, what identifies a row, when it happened.

Column names follow the public "Fitbit Fitness Tracker Data" export
(Fitabase). The wide minute files have one column per minute of the hour
(``Steps00`` ... ``Steps59``); they are kept as they are.
"""

from __future__ import annotations

from tap_wearable_csv.client import FitabaseStream


class DailyActivityStream(FitabaseStream):
    name = "wearable__daily_activity"
    file_name = "dailyActivity_merged.csv"
    key_columns = ("Id", "ActivityDate")
    time_column = "ActivityDate"
    time_aliases = ("ActivityDay",)
    daily = True


class DailyCaloriesStream(FitabaseStream):
    name = "wearable__daily_calories"
    file_name = "dailyCalories_merged.csv"
    key_columns = ("Id", "ActivityDay")
    time_column = "ActivityDay"
    time_aliases = ("ActivityDate",)  # what spreadsheet re-saves of the public set call it
    daily = True


class DailyIntensitiesStream(FitabaseStream):
    name = "wearable__daily_intensities"
    file_name = "dailyIntensities_merged.csv"
    key_columns = ("Id", "ActivityDay")
    time_column = "ActivityDay"
    time_aliases = ("ActivityDate",)  # what spreadsheet re-saves of the public set call it
    daily = True


class DailyStepsStream(FitabaseStream):
    name = "wearable__daily_steps"
    file_name = "dailySteps_merged.csv"
    key_columns = ("Id", "ActivityDay")
    time_column = "ActivityDay"
    time_aliases = ("ActivityDate",)  # what spreadsheet re-saves of the public set call it
    daily = True


class HeartrateSecondsStream(FitabaseStream):
    """About 2.5 million rows in the public set: read streaming, resumed when appended."""

    name = "wearable__heartrate_seconds"
    file_name = "heartrate_seconds_merged.csv"
    key_columns = ("Id", "Time")
    time_column = "Time"


class HourlyCaloriesStream(FitabaseStream):
    name = "wearable__hourly_calories"
    file_name = "hourlyCalories_merged.csv"
    key_columns = ("Id", "ActivityHour")
    time_column = "ActivityHour"


class HourlyIntensitiesStream(FitabaseStream):
    name = "wearable__hourly_intensities"
    file_name = "hourlyIntensities_merged.csv"
    key_columns = ("Id", "ActivityHour")
    time_column = "ActivityHour"


class HourlyStepsStream(FitabaseStream):
    name = "wearable__hourly_steps"
    file_name = "hourlySteps_merged.csv"
    key_columns = ("Id", "ActivityHour")
    time_column = "ActivityHour"


class MinuteCaloriesNarrowStream(FitabaseStream):
    name = "wearable__minute_calories_narrow"
    file_name = "minuteCaloriesNarrow_merged.csv"
    key_columns = ("Id", "ActivityMinute")
    time_column = "ActivityMinute"


class MinuteCaloriesWideStream(FitabaseStream):
    name = "wearable__minute_calories_wide"
    file_name = "minuteCaloriesWide_merged.csv"
    key_columns = ("Id", "ActivityHour")
    time_column = "ActivityHour"


class MinuteIntensitiesNarrowStream(FitabaseStream):
    name = "wearable__minute_intensities_narrow"
    file_name = "minuteIntensitiesNarrow_merged.csv"
    key_columns = ("Id", "ActivityMinute")
    time_column = "ActivityMinute"


class MinuteIntensitiesWideStream(FitabaseStream):
    name = "wearable__minute_intensities_wide"
    file_name = "minuteIntensitiesWide_merged.csv"
    key_columns = ("Id", "ActivityHour")
    time_column = "ActivityHour"


class MinuteMetsNarrowStream(FitabaseStream):
    name = "wearable__minute_mets_narrow"
    file_name = "minuteMETsNarrow_merged.csv"
    key_columns = ("Id", "ActivityMinute")
    time_column = "ActivityMinute"


class MinuteSleepStream(FitabaseStream):
    """One row per minute of a sleep log; a minute can sit in two overlapping logs."""

    name = "wearable__minute_sleep"
    file_name = "minuteSleep_merged.csv"
    key_columns = ("Id", "date", "logId")
    time_column = "date"


class MinuteStepsNarrowStream(FitabaseStream):
    name = "wearable__minute_steps_narrow"
    file_name = "minuteStepsNarrow_merged.csv"
    key_columns = ("Id", "ActivityMinute")
    time_column = "ActivityMinute"


class MinuteStepsWideStream(FitabaseStream):
    name = "wearable__minute_steps_wide"
    file_name = "minuteStepsWide_merged.csv"
    key_columns = ("Id", "ActivityHour")
    time_column = "ActivityHour"


class SleepDayStream(FitabaseStream):
    """Nightly sleep; the real file has exact duplicate rows, which land once."""

    name = "wearable__sleep_day"
    file_name = "sleepDay_merged.csv"
    key_columns = ("Id", "SleepDay")
    time_column = "SleepDay"
    daily = True


class WeightLogInfoStream(FitabaseStream):
    name = "wearable__weight_log_info"
    file_name = "weightLogInfo_merged.csv"
    key_columns = ("Id", "LogId")
    time_column = "Date"


STREAM_TYPES = (
    DailyActivityStream, DailyCaloriesStream, DailyIntensitiesStream, DailyStepsStream,
    HeartrateSecondsStream, HourlyCaloriesStream, HourlyIntensitiesStream, HourlyStepsStream,
    MinuteCaloriesNarrowStream, MinuteCaloriesWideStream, MinuteIntensitiesNarrowStream,
    MinuteIntensitiesWideStream, MinuteMetsNarrowStream, MinuteSleepStream,
    MinuteStepsNarrowStream, MinuteStepsWideStream, SleepDayStream, WeightLogInfoStream,
)
