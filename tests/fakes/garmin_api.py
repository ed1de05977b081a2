"""A local fake of the Garmin Connect web API and its DI OAuth token service.

Used by the tests and by `make demo` (nothing here reaches the internet).
Payloads follow the shapes the Connect web API returns (field names as in
python-garminconnect's responses): epoch-millisecond GMT timestamps in sleep,
``...GMT`` strings in summaries, column arrays ``[epoch_ms, value]`` for
intraday series, offset-paged activity lists newest first. Each day's data is
derived from ``seed + day``, so it is the same whatever order it is asked in
and across two instances with the same arguments.

Fault injection (``fail_next``, ``expire_access_token``, ``revoke``,
``die_after``) lets tests drive retries, refreshes and mid-run failures.
``python -m tests.fakes.serve garmin`` serves it by hand.
"""

from __future__ import annotations

import datetime as dt
import random

from tests.fakes.http_fake import FakeAPI, Request

UTC = dt.timezone.utc
LOCAL_OFFSET = dt.timedelta(hours=1)  # the fake user lives in UTC+1
PROFILE_PK = 81234567
TOKEN_PATH = "/di-oauth2-service/oauth/token"
PROFILE_PATH = "/userprofile-service/socialProfile"


def _ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def _gmt_text(moment: dt.datetime) -> str:
    """Garmin's zone-less GMT text form: 2024-05-13T22:00:00.0"""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0")


def _day_start_gmt(day: dt.date) -> dt.datetime:
    """Local midnight of ``day`` as a UTC instant."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=UTC) - LOCAL_OFFSET


class FakeGarmin(FakeAPI):
    """The fake server: data, tokens, fault injection (see FakeAPI for the log)."""

    meta_paths = (TOKEN_PATH, PROFILE_PATH)

    def __init__(self, days: int = 21, seed: int = 7, end_date: dt.date | None = None,
                 access_token: str = "fake-access-0", refresh_token: str = "fake-refresh-0",
                 display_name: str = "b1f5e2c0-fake-user", activities_per_day: float = 0.7):
        super().__init__()
        self.seed = seed
        self.end_date = end_date or dt.datetime.now(UTC).date()
        self.days_list = [self.end_date - dt.timedelta(days=n) for n in range(days - 1, -1, -1)]
        self.no_sleep_day = self.days_list[len(self.days_list) // 2] if days >= 3 else None
        self.display_name = display_name
        self.activities_per_day = activities_per_day
        self.access_token, self.refresh_token = access_token, refresh_token
        self.refresh_count = 0
        self._revoked = False
        self._sleep_overrides: dict[dt.date, dict] = {}

    def expire_access_token(self) -> None:
        with self._lock:
            self.access_token = f"expired-{self.access_token}"  # nobody holds this one

    def revoke(self) -> None:
        with self._lock:
            self._revoked = True

    def set_sleep_override(self, day: dt.date, changes: dict) -> None:
        with self._lock:
            self._sleep_overrides[day] = changes

    # --- payloads --------------------------------------------------------------------
    def _rng(self, day: dt.date, salt: int) -> random.Random:
        return random.Random(self.seed * 1_000_003 + day.toordinal() * 31 + salt)

    def has_data(self, day: dt.date) -> bool:
        return day in self.days_list

    def sleep_payload(self, day: dt.date) -> dict:
        if not self.has_data(day) or day == self.no_sleep_day:
            return {"dailySleepDTO": {"id": None, "userProfilePK": PROFILE_PK, "calendarDate": day.isoformat(),
                                      "sleepTimeSeconds": None, "sleepStartTimestampGMT": None,
                                      "sleepEndTimestampGMT": None, "sleepScores": None},
                    "sleepMovement": [], "remSleepData": False}
        rng = self._rng(day, 1)
        start = _day_start_gmt(day) - dt.timedelta(minutes=rng.randint(60, 150))
        stages = {k: rng.randint(lo, hi) * 60 for k, lo, hi in
                  (("deep", 50, 110), ("light", 180, 260), ("rem", 60, 120), ("awake", 5, 40))}
        end = start + dt.timedelta(seconds=sum(stages.values()))
        score = rng.randint(55, 95)
        dto = {
            "id": _ms(start), "userProfilePK": PROFILE_PK, "calendarDate": day.isoformat(),
            "sleepTimeSeconds": stages["deep"] + stages["light"] + stages["rem"], "napTimeSeconds": 0,
            "sleepWindowConfirmed": True, "sleepWindowConfirmationType": "enhanced_confirmed_final",
            "sleepStartTimestampGMT": _ms(start), "sleepEndTimestampGMT": _ms(end),
            "sleepStartTimestampLocal": _ms(start + LOCAL_OFFSET), "sleepEndTimestampLocal": _ms(end + LOCAL_OFFSET),
            "deepSleepSeconds": stages["deep"], "lightSleepSeconds": stages["light"],
            "remSleepSeconds": stages["rem"], "awakeSleepSeconds": stages["awake"],
            "unmeasurableSleepSeconds": 0, "deviceRemCapable": True, "retro": False,
            "averageRespirationValue": round(rng.uniform(12.5, 16.5), 1),
            "lowestRespirationValue": 10.0, "highestRespirationValue": 20.0,
            "avgSleepStress": round(rng.uniform(8, 25), 1), "awakeCount": rng.randint(0, 4),
            "sleepScores": {"overall": {"value": score, "qualifierKey": "GOOD" if score >= 80 else "FAIR"},
                            "totalDuration": {"qualifierKey": "GOOD"},
                            "remPercentage": {"value": round(100 * stages["rem"] / sum(stages.values()))}},
        }
        with self._lock:
            dto.update(self._sleep_overrides.get(day, {}))
        movement = [{"startGMT": _gmt_text(start + dt.timedelta(minutes=m)),
                     "endGMT": _gmt_text(start + dt.timedelta(minutes=m + 1)),
                     "activityLevel": round(rng.uniform(0, 3), 3)} for m in range(0, 60 * 7, 30)]
        return {"dailySleepDTO": dto, "sleepMovement": movement, "remSleepData": True,
                "restingHeartRate": self._resting_hr(day), "avgOvernightHrv": rng.randint(35, 70)}

    def _resting_hr(self, day: dt.date) -> int:
        return self._rng(day, 2).randint(48, 62)

    def daily_summary_payload(self, day: dt.date) -> dict:
        start = _day_start_gmt(day)
        base = {"userProfileId": PROFILE_PK, "calendarDate": day.isoformat(),
                "wellnessStartTimeGmt": _gmt_text(start), "wellnessEndTimeGmt": _gmt_text(start + dt.timedelta(days=1)),
                "wellnessStartTimeLocal": _gmt_text(start + LOCAL_OFFSET),
                "wellnessEndTimeLocal": _gmt_text(start + LOCAL_OFFSET + dt.timedelta(days=1))}
        if not self.has_data(day):
            return {**base, "totalSteps": None, "totalKilocalories": None, "restingHeartRate": None}
        rng = self._rng(day, 3)
        steps = rng.randint(3000, 18000)
        return {**base, "totalSteps": steps, "dailyStepGoal": 8000, "totalDistanceMeters": int(steps * 0.78),
                "totalKilocalories": float(rng.randint(1900, 3200)), "activeKilocalories": float(rng.randint(200, 1100)),
                "bmrKilocalories": 1750.0, "restingHeartRate": self._resting_hr(day),
                "minHeartRate": self._resting_hr(day) - 3, "maxHeartRate": rng.randint(120, 182),
                "averageStressLevel": rng.randint(18, 45), "maxStressLevel": rng.randint(60, 99),
                "moderateIntensityMinutes": rng.randint(0, 60), "vigorousIntensityMinutes": rng.randint(0, 40),
                "floorsAscended": round(rng.uniform(0, 20), 1), "bodyBatteryChargedValue": rng.randint(30, 80),
                "bodyBatteryDrainedValue": rng.randint(30, 80), "privacyProtected": False}

    def _series(self, day: dt.date, salt: int, every_minutes: int, low: int, high: int) -> list:
        rng, start = self._rng(day, salt), _day_start_gmt(day)
        return [[_ms(start + dt.timedelta(minutes=m)), rng.randint(low, high)]
                for m in range(0, 24 * 60, every_minutes)]

    def heart_rate_payload(self, day: dt.date) -> dict:
        start = _day_start_gmt(day)
        values = self._series(day, 4, 2, 48, 150) if self.has_data(day) else None
        return {"userProfilePK": PROFILE_PK, "calendarDate": day.isoformat(),
                "startTimestampGMT": _gmt_text(start), "endTimestampGMT": _gmt_text(start + dt.timedelta(days=1)),
                "startTimestampLocal": _gmt_text(start + LOCAL_OFFSET),
                "endTimestampLocal": _gmt_text(start + LOCAL_OFFSET + dt.timedelta(days=1)),
                "maxHeartRate": max(v[1] for v in values) if values else None,
                "minHeartRate": min(v[1] for v in values) if values else None,
                "restingHeartRate": self._resting_hr(day) if values else None,
                "lastSevenDaysAvgRestingHeartRate": 55 if values else None,
                "heartRateValueDescriptors": [{"key": "timestamp", "index": 0}, {"key": "heartrate", "index": 1}],
                "heartRateValues": values}

    def hrv_payload(self, day: dt.date) -> dict | None:
        if not self.has_data(day):
            return None  # answered as 204 No Content, as Garmin does
        rng, start = self._rng(day, 5), _day_start_gmt(day) - dt.timedelta(hours=1)
        readings = [{"hrvValue": rng.randint(30, 80), "readingTimeGMT": _gmt_text(start + dt.timedelta(minutes=5 * i)),
                     "readingTimeLocal": _gmt_text(start + LOCAL_OFFSET + dt.timedelta(minutes=5 * i))}
                    for i in range(0, 84, 6)]
        return {"userProfilePk": PROFILE_PK,
                "hrvSummary": {"calendarDate": day.isoformat(), "weeklyAvg": rng.randint(40, 60),
                               "lastNightAvg": rng.randint(35, 70), "lastNight5MinHigh": rng.randint(70, 95),
                               "status": rng.choice(["BALANCED", "BALANCED", "UNBALANCED", "LOW"]),
                               "baseline": {"lowUpper": 38, "balancedLow": 42, "balancedUpper": 62, "markerValue": 0.5},
                               "createTimeStamp": _gmt_text(start + dt.timedelta(hours=8))},
                "hrvReadings": readings, "startTimestampGMT": _gmt_text(start),
                "endTimestampGMT": _gmt_text(start + dt.timedelta(hours=7))}

    def stress_payload(self, day: dt.date) -> dict:
        start = _day_start_gmt(day)
        values = self._series(day, 6, 3, 0, 99) if self.has_data(day) else []
        return {"userProfilePK": PROFILE_PK, "calendarDate": day.isoformat(),
                "startTimestampGMT": _gmt_text(start), "endTimestampGMT": _gmt_text(start + dt.timedelta(days=1)),
                "maxStressLevel": max((v[1] for v in values), default=None),
                "avgStressLevel": round(sum(v[1] for v in values) / len(values)) if values else None,
                "stressValueDescriptorsDTOList": [{"key": "timestamp", "index": 0}, {"key": "stressLevel", "index": 1}],
                "stressValuesArray": values}

    def body_battery_payload(self, day: dt.date) -> dict:
        start, rng = _day_start_gmt(day), self._rng(day, 7)
        return {"date": day.isoformat(), "charged": rng.randint(30, 80), "drained": rng.randint(30, 80),
                "startTimestampGMT": _gmt_text(start), "endTimestampGMT": _gmt_text(start + dt.timedelta(days=1)),
                "startTimestampLocal": _gmt_text(start + LOCAL_OFFSET),
                "endTimestampLocal": _gmt_text(start + LOCAL_OFFSET + dt.timedelta(days=1)),
                "bodyBatteryValuesArray": self._series(day, 8, 30, 5, 100),
                "bodyBatteryValueDescriptorDTOList": [{"bodyBatteryValueDescriptorIndex": 0,
                                                       "bodyBatteryValueDescriptorKey": "timestamp"},
                                                      {"bodyBatteryValueDescriptorIndex": 1,
                                                       "bodyBatteryValueDescriptorKey": "bodyBatteryLevel"}]}

    def activities(self) -> list[dict]:
        """Every activity, newest first."""
        found = []
        for day in self.days_list:
            rng = self._rng(day, 9)
            if rng.random() >= self.activities_per_day:
                continue
            kind, type_id = rng.choice([("running", 1), ("cycling", 2), ("walking", 9), ("strength_training", 13)])
            start = _day_start_gmt(day) + dt.timedelta(hours=rng.randint(6, 19), minutes=rng.randint(0, 59))
            duration = float(rng.randint(20, 90) * 60)
            distance = 0.0 if kind == "strength_training" else round(duration * rng.uniform(1.2, 6.5), 1)
            found.append({
                "activityId": 10_000_000_000 + day.toordinal() * 10 + type_id,
                "activityName": f"{kind.replace('_', ' ').title()}",
                "startTimeLocal": (start + LOCAL_OFFSET).strftime("%Y-%m-%d %H:%M:%S"),
                "startTimeGMT": start.strftime("%Y-%m-%d %H:%M:%S"),
                "activityType": {"typeId": type_id, "typeKey": kind, "parentTypeId": 17, "isHidden": False},
                "distance": distance, "duration": duration, "elapsedDuration": duration + 31.0,
                "movingDuration": duration - 12.0, "elevationGain": float(rng.randint(0, 300)),
                "averageSpeed": round(distance / duration, 3) if distance else 0.0,
                "averageHR": float(rng.randint(105, 160)), "maxHR": float(rng.randint(150, 185)),
                "calories": float(rng.randint(150, 900)), "steps": rng.randint(2000, 12000) if kind != "cycling" else None,
                "beginTimestamp": _ms(start), "ownerId": PROFILE_PK, "deviceId": 3442978399,
                "manufacturer": "GARMIN", "lapCount": rng.randint(1, 12), "hasPolyline": kind != "strength_training",
            })
        return sorted(found, key=lambda a: a["beginTimestamp"], reverse=True)

    # --- the API ---------------------------------------------------------------------
    def refresh(self, form: dict) -> tuple[int, object]:
        with self._lock:
            if self._revoked or form.get("refresh_token") != self.refresh_token:
                return 400, {"error": "invalid_grant", "error_description": "refresh token is invalid"}
            self.refresh_count += 1
            self.access_token = f"fake-access-{self.refresh_count}"
            self.refresh_token = f"fake-refresh-{self.refresh_count}"
            return 200, {"access_token": self.access_token, "refresh_token": self.refresh_token,
                         "expires_in": 3600, "refresh_token_expires_in": 7776000, "token_type": "Bearer",
                         "scope": "CONNECT_READ CONNECT_WRITE", "jti": f"jti-{self.refresh_count}"}

    def authorized(self, header: str | None) -> bool:
        with self._lock:
            return not self._revoked and header == f"Bearer {self.access_token}"

    def answer(self, request: Request) -> tuple[int, object, dict]:
        if request.path == TOKEN_PATH and request.method == "POST":
            return (*self.refresh(request.form()), {})
        if not self.authorized(request.headers.get("Authorization")):
            return 401, {"message": "HTTP 401 Unauthorized", "error": "Unauthorized"}, {}
        return (*self.route(request.path, request.query), {})

    def route(self, path: str, query: dict) -> tuple[int, object]:
        """(status, body) for an authorised GET; body None means no content."""
        def day(key: str = "date") -> dt.date:
            return dt.date.fromisoformat(query[key])

        name = f"/{self.display_name}"
        if path == PROFILE_PATH:
            return 200, {"displayName": self.display_name, "profileId": PROFILE_PK,
                         "userName": "fake.user@example.com", "fullName": "Fake User"}
        if path == "/wellness-service/wellness/dailySleepData" + name:
            return 200, self.sleep_payload(day())
        if path == "/usersummary-service/usersummary/daily" + name:
            return 200, self.daily_summary_payload(day("calendarDate"))
        if path == "/wellness-service/wellness/dailyHeartRate" + name:
            return 200, self.heart_rate_payload(day())
        if path.startswith("/hrv-service/hrv/"):
            payload = self.hrv_payload(dt.date.fromisoformat(path.rsplit("/", 1)[1]))
            return (204, None) if payload is None else (200, payload)
        if path.startswith("/wellness-service/wellness/dailyStress/"):
            return 200, self.stress_payload(dt.date.fromisoformat(path.rsplit("/", 1)[1]))
        if path == "/wellness-service/wellness/bodyBattery/reports/daily":
            first, last = day("startDate"), day("endDate")
            return 200, [self.body_battery_payload(d) for d in self.days_list if first <= d <= last]
        if path == "/activitylist-service/activities/search/activities":
            items = self.activities()
            if query.get("startDate"):
                items = [a for a in items if a["startTimeGMT"][:10] >= query["startDate"]]
            if query.get("endDate"):
                items = [a for a in items if a["startTimeGMT"][:10] <= query["endDate"]]
            start, limit = int(query.get("start", 0)), int(query.get("limit", 20))
            return 200, items[start:start + limit]
        return 404, {"message": f"no such endpoint: {path}"}
