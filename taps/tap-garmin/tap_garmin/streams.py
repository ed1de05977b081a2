"""Garmin Connect web API streams, one class per stream."""

from __future__ import annotations

from singer_sdk.pagination import OffsetPaginator

from bronze_core.fields import EPOCH_MS, When
from bronze_core.http import JSON_ARRAY, ResponseShape
from tap_garmin.client import GarminDailyStream, GarminStream


class SleepStream(GarminDailyStream):
    """One night per calendar (wake) date, with sleep stages, scores and movement."""

    name = "garmin__sleep"
    path = "/wellness-service/wellness/dailySleepData/{display_name}"
    extra_params = {"nonSleepBufferMinutes": 60}
    response_shape = ResponseShape(dict, required=("dailySleepDTO",))  # also on nights without
    time_field = (When(("dailySleepDTO", "sleepStartTimestampGMT"), EPOCH_MS), When(("dailySleepDTO", "calendarDate")))


class DailySummaryStream(GarminDailyStream):
    """The day's totals: steps, calories, distance, heart rate, stress, intensity minutes."""

    name = "garmin__daily_summary"
    path = "/usersummary-service/usersummary/daily/{display_name}"
    date_param = "calendarDate"
    time_field = (When("wellnessStartTimeGmt", EPOCH_MS), When("calendarDate"))


class HeartRateStream(GarminDailyStream):
    """The day's heart-rate samples (``heartRateValues``: [epoch ms, bpm])."""

    name = "garmin__heart_rate"
    path = "/wellness-service/wellness/dailyHeartRate/{display_name}"


class HrvStream(GarminDailyStream):
    """Overnight heart-rate variability (summary and readings); 204 on days without."""

    name = "garmin__hrv"
    path = "/hrv-service/hrv/{date}"
    date_param = None
    #: 204 No Content on a night without HRV; any 200 carries the summary.
    response_shape = ResponseShape(dict, required=("hrvSummary",), no_content=True)
    time_field = (When("startTimestampGMT", EPOCH_MS), When(("hrvSummary", "calendarDate")))


class StressStream(GarminDailyStream):
    """The day's stress levels (``stressValuesArray``: [epoch ms, level])."""

    name = "garmin__stress"
    path = "/wellness-service/wellness/dailyStress/{date}"
    date_param = None


class BodyBatteryStream(GarminDailyStream):
    """Body Battery per day; the report endpoint takes a date range, asked in 28-day windows."""

    name = "garmin__body_battery"
    path = "/wellness-service/wellness/bodyBattery/reports/daily"
    date_param = None
    window_days = 28
    records_jsonpath = "$[*]"
    response_shape = JSON_ARRAY  # one object per day of the window (an empty array: none)
    key_fields = ("date",)
    time_field = (When("startTimestampGMT", EPOCH_MS), When("date"))

    def get_http_request(self, *, page):
        request = super().get_http_request(page=page)
        window = page.next_page_token
        request.params.update(startDate=window.first.isoformat(), endDate=window.last.isoformat())
        return request


class ActivitiesStream(GarminStream):
    """Recorded activities (runs, rides, walks...), newest first, offset-paged.

    The list endpoint filters on ``startDate``; a run asks from the bookmark
    minus ``lookback_days`` so activities edited after upload are re-read.
    """

    name = "garmin__activities"
    path = "/activitylist-service/activities/search/activities"
    records_jsonpath = "$[*]"
    response_shape = JSON_ARRAY  # an empty array is the end of the list
    is_sorted = False  # newest first

    def get_new_paginator(self):
        return OffsetPaginator(start_value=0, page_size=int(self.config["activities_page_size"]))

    def get_url_params(self, context, next_page_token):
        return {
            "start": next_page_token or 0,
            "limit": int(self.config["activities_page_size"]),
            "startDate": self.resume_day(context).isoformat(),
        }

    key_fields = ("activityId",)
    time_field = (When("startTimeGMT", EPOCH_MS), When("beginTimestamp", EPOCH_MS))


API_STREAMS = [
    SleepStream,
    DailySummaryStream,
    HeartRateStream,
    HrvStream,
    StressStream,
    BodyBatteryStream,
    ActivitiesStream,
]
