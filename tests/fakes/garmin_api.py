"""A local fake of the Garmin Connect web API and its DI OAuth token service.

Used by the tests and by the demo (nothing here reaches the internet).
Payloads follow the shapes the Connect web API returns (field names as in
python-garminconnect's responses): epoch-millisecond GMT timestamps in sleep,
``...GMT`` strings in summaries, column arrays ``[epoch_ms, value]`` for
intraday series, offset-paged activity lists newest first, 204 from the HRV
endpoint on nights without HRV. Each day's data is derived from ``seed + day``
alone, so it is the same whatever order it is asked in and across two
instances with the same arguments. The user lives in UTC+1.

Fault injection (``fail_next``, ``expire_access_token``, ``revoke``,
``refresh_elsewhere``, ``die_after``) lets tests drive retries, refreshes and mid-run failures.
Serve it by hand with ``python -m tests.fakes.garmin_api --port 8765`` (or
alongside the other fakes with ``python -m tests.fakes.serve garmin``).
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import itertools
import random
import threading

from tests.fakes.http_fake import FakeAPI, Request

UTC = dt.UTC
LOCAL_OFFSET = dt.timedelta(hours=1)  # the fake user lives in UTC+1
PROFILE_PK = 81234567
DEVICE_ID = 3442978399
TOKEN_PATH = "/di-oauth2-service/oauth/token"
PROFILE_PATH = "/userprofile-service/socialProfile"
SLOTS_PER_DAY = 720  # one heart-rate value every 2 minutes
SPORTS = [("running", 1), ("cycling", 2), ("walking", 9), ("strength_training", 13)]


def _ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def _gmt_text(moment: dt.datetime) -> str:
    """Garmin's zone-less text form: 2024-05-13T22:00:00.0"""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0")


def _day_start_gmt(day: dt.date) -> dt.datetime:
    """Local midnight of ``day`` as a UTC instant (Garmin's days are the user's local days)."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=UTC) - LOCAL_OFFSET


def _day_bounds(day: dt.date, start_key: str, end_key: str, gmt: str = "GMT") -> dict:
    """The GMT and local start/end text fields most daily payloads carry (local midnight to midnight)."""
    start, end = _day_start_gmt(day), _day_start_gmt(day) + dt.timedelta(days=1)
    return {
        start_key + gmt: _gmt_text(start),
        end_key + gmt: _gmt_text(end),
        start_key + "Local": _gmt_text(start + LOCAL_OFFSET),
        end_key + "Local": _gmt_text(end + LOCAL_OFFSET),
    }


class FakeGarmin(FakeAPI):
    """The fake server: data, tokens, fault injection (the log and ``fail_next`` live in FakeAPI)."""

    meta_paths = (TOKEN_PATH, PROFILE_PATH)

    def __init__(
        self,
        days: int = 21,
        seed: int = 7,
        end_date: dt.date | None = None,
        access_token: str = "fake-access-0",
        refresh_token: str = "fake-refresh-0",
        display_name: str = "b1f5e2c0-fake-user",
        activities_per_day: float = 0.7,
    ):
        super().__init__()
        self.seed = seed
        self.end_date = end_date or dt.datetime.now(UTC).date()
        self.days_list = [self.end_date - dt.timedelta(days=n) for n in range(days - 1, -1, -1)]
        # One night in the middle without the watch on, so consumers meet a sparse payload.
        self.no_sleep_day = self.days_list[len(self.days_list) // 2] if days >= 3 else None
        self.display_name = display_name
        self.activities_per_day = activities_per_day
        self.access_token, self.refresh_token = access_token, refresh_token
        self.refresh_count = 0
        self._access_expired = False
        self._revoked = False
        self._sleep_overrides: dict[dt.date, dict] = {}

    # --- test controls ------------------------------------------------------------------
    def expire_access_token(self) -> None:
        """The token the client holds (``self.access_token``) answers 401 until a refresh."""
        with self._lock:
            self._access_expired = True

    def revoke(self) -> None:
        """The user signed out everywhere: data answers 401 and refreshes answer invalid_grant."""
        with self._lock:
            self._revoked = True

    def refresh_elsewhere(self) -> None:
        """Another client refreshed with the same pair (garminconnect on another machine):
        Garmin rotated the refresh token, so the one the tap holds answers invalid_grant,
        while its access token works until it expires. The new pair is ``access_token``
        and ``refresh_token`` (what a re-created token file would hold)."""
        with self._lock:
            self.refresh_token = f"fake-refresh-elsewhere-{self.refresh_count}"

    def set_sleep_override(self, day: dt.date, changes: dict) -> None:
        """Merge ``changes`` into that night's dailySleepDTO, as when Garmin rescores a night."""
        with self._lock:
            self._sleep_overrides.setdefault(day, {}).update(changes)

    def _should_die(self, path: str) -> bool:
        """Like FakeAPI's, but a dead server is dead for every path, token and profile included."""
        with self._lock:
            if self._die_after is not None and self._die_after <= 0:
                return True
        return super()._should_die(path)

    # --- shared per-day facts -------------------------------------------------------------
    def _rng(self, day: dt.date, salt: int) -> random.Random:
        """One generator per (day, payload): stable whatever order days are asked in."""
        return random.Random(self.seed * 1_000_003 + day.toordinal() * 31 + salt)

    def has_data(self, day: dt.date) -> bool:
        return day in self.days_list

    def _slept(self, day: dt.date) -> bool:
        return self.has_data(day) and day != self.no_sleep_day

    def _resting_hr(self, day: dt.date) -> int:
        return self._rng(day, 2).randint(48, 62)

    def _night(self, day: dt.date) -> tuple[dt.datetime, dt.datetime, dict]:
        """(sleep start, sleep end, stage seconds) of the night that ends on ``day``."""
        rng = self._rng(day, 1)
        start = _day_start_gmt(day) - dt.timedelta(minutes=rng.randint(30, 120))  # 22:00-23:30 local
        stages = {
            k: rng.randint(lo, hi) * 60
            for k, lo, hi in (("deep", 60, 110), ("light", 210, 300), ("rem", 90, 130), ("awake", 5, 40))
        }
        return start, start + dt.timedelta(seconds=sum(stages.values())), stages

    def _activity(self, day: dt.date) -> dict | None:
        """That day's activity, if any (at most one a day, between 06:00 and 19:59 local)."""
        rng = self._rng(day, 9)
        if not self.has_data(day) or rng.random() >= self.activities_per_day:
            return None
        kind, type_id = rng.choice(SPORTS)
        start = _day_start_gmt(day) + dt.timedelta(
            hours=rng.randint(6, 19), minutes=rng.randint(0, 59), seconds=rng.randint(0, 59)
        )
        duration = float(rng.randint(20, 90) * 60)
        distance = 0.0 if kind == "strength_training" else round(duration * rng.uniform(1.2, 6.5), 1)
        return {
            "activityId": 10_000_000_000 + day.toordinal() * 10 + type_id,
            "activityName": f"{kind.replace('_', ' ').title()}",
            "startTimeLocal": (start + LOCAL_OFFSET).strftime("%Y-%m-%d %H:%M:%S"),
            "startTimeGMT": start.strftime("%Y-%m-%d %H:%M:%S"),
            "activityType": {"typeId": type_id, "typeKey": kind, "parentTypeId": 17, "isHidden": False},
            "distance": distance,
            "duration": duration,
            "elapsedDuration": duration + 31.0,
            "movingDuration": duration - 12.0,
            "elevationGain": float(rng.randint(0, 300)),
            "averageSpeed": round(distance / duration, 3) if distance else 0.0,
            "averageHR": float(rng.randint(105, 150)),
            "maxHR": float(rng.randint(155, 185)),
            "calories": float(rng.randint(150, 900)),
            "steps": rng.randint(2000, 12000) if kind != "cycling" else None,
            "beginTimestamp": _ms(start),
            "ownerId": PROFILE_PK,
            "deviceId": DEVICE_ID,
            "manufacturer": "GARMIN",
            "lapCount": rng.randint(1, 12),
            "hasPolyline": kind != "strength_training",
        }

    def _heart_rates(self, day: dt.date) -> list[list]:
        """[epoch_ms, bpm or None] every 2 minutes: low asleep, higher awake, high in the activity,
        None while the watch is off (a 20-minute gap each day, and the whole unworn night)."""
        rng, start, rest = self._rng(day, 4), _day_start_gmt(day), self._resting_hr(day)
        _, wake, _ = self._night(day)
        activity = self._activity(day)
        act_from = activity["beginTimestamp"] if activity else None
        act_to = act_from + int(activity["duration"] * 1000) if activity else None
        gap = rng.randrange(9 * 30, 21 * 30)  # off the wrist for a shower, 09:00-21:00 local
        values = []
        for slot in range(SLOTS_PER_DAY):
            at = _ms(start + dt.timedelta(minutes=2 * slot))
            if gap <= slot < gap + 10 or (not self._slept(day) and at < _ms(wake)):
                bpm = None
            elif activity and act_from <= at < act_to:
                bpm = min(int(activity["maxHR"]), round(activity["averageHR"] + rng.gauss(0, 8)))
            elif at < _ms(wake) or slot >= 23 * 30:
                bpm = max(rest - 4, round(rest + 3 + rng.gauss(0, 3)))
            else:
                bpm = max(rest, round(rest + 22 + rng.gauss(0, 9)))
            values.append([at, bpm])
        return values

    # --- payloads ------------------------------------------------------------------------
    def sleep_payload(self, day: dt.date) -> dict:
        if not self._slept(day):
            return {
                "dailySleepDTO": {
                    "id": None,
                    "userProfilePK": PROFILE_PK,
                    "calendarDate": day.isoformat(),
                    "sleepTimeSeconds": None,
                    "napTimeSeconds": None,
                    "sleepStartTimestampGMT": None,
                    "sleepEndTimestampGMT": None,
                    "sleepStartTimestampLocal": None,
                    "sleepEndTimestampLocal": None,
                    "sleepWindowConfirmed": False,
                    "sleepScores": None,
                },
                "sleepMovement": [],
                "remSleepData": False,
            }
        rng = self._rng(day, 10)
        start, end, stages = self._night(day)
        score = rng.randint(55, 95)
        dto = {
            "id": _ms(start),
            "userProfilePK": PROFILE_PK,
            "calendarDate": day.isoformat(),
            "sleepTimeSeconds": stages["deep"] + stages["light"] + stages["rem"],
            "napTimeSeconds": 0,
            "sleepWindowConfirmed": True,
            "sleepWindowConfirmationType": "enhanced_confirmed_final",
            "sleepStartTimestampGMT": _ms(start),
            "sleepEndTimestampGMT": _ms(end),
            "sleepStartTimestampLocal": _ms(start + LOCAL_OFFSET),
            "sleepEndTimestampLocal": _ms(end + LOCAL_OFFSET),
            "deepSleepSeconds": stages["deep"],
            "lightSleepSeconds": stages["light"],
            "remSleepSeconds": stages["rem"],
            "awakeSleepSeconds": stages["awake"],
            "unmeasurableSleepSeconds": 0,
            "deviceRemCapable": True,
            "retro": False,
            "averageRespirationValue": round(rng.uniform(12.5, 16.5), 1),
            "lowestRespirationValue": 10.0,
            "highestRespirationValue": 20.0,
            "avgSleepStress": round(rng.uniform(8, 25), 1),
            "awakeCount": rng.randint(0, 4),
            "sleepScores": {
                "overall": {"value": score, "qualifierKey": "GOOD" if score >= 80 else "FAIR"},
                "totalDuration": {"qualifierKey": "GOOD"},
                "remPercentage": {"value": round(100 * stages["rem"] / sum(stages.values()))},
            },
        }
        with self._lock:
            dto.update(self._sleep_overrides.get(day, {}))
        minutes = int((end - start).total_seconds() // 60)
        movement = [
            {
                "startGMT": _gmt_text(start + dt.timedelta(minutes=m)),
                "endGMT": _gmt_text(start + dt.timedelta(minutes=m + 1)),
                "activityLevel": round(rng.uniform(0, 3), 3),
            }
            for m in range(0, minutes, 15)
        ]
        return {
            "dailySleepDTO": dto,
            "sleepMovement": movement,
            "remSleepData": True,
            "restingHeartRate": self._resting_hr(day),
            "avgOvernightHrv": rng.randint(35, 70),
        }

    def daily_summary_payload(self, day: dt.date) -> dict:
        base = {
            "userProfileId": PROFILE_PK,
            "calendarDate": day.isoformat(),
            **_day_bounds(day, "wellnessStartTime", "wellnessEndTime", gmt="Gmt"),
        }  # sic: "Gmt" here
        if not self.has_data(day):
            return {
                **base,
                "totalSteps": None,
                "totalKilocalories": None,
                "restingHeartRate": None,
                "totalDistanceMeters": None,
                "includesWellnessData": False,
            }
        rng = self._rng(day, 3)
        steps = rng.randint(3000, 18000)
        beats = [v[1] for v in self._heart_rates(day) if v[1] is not None]
        stress, battery = self.stress_payload(day), self.body_battery_payload(day)
        return {
            **base,
            "totalSteps": steps,
            "dailyStepGoal": 8000,
            "totalDistanceMeters": int(steps * 0.78),
            "totalKilocalories": float(rng.randint(1900, 3200)),
            "activeKilocalories": float(rng.randint(200, 1100)),
            "bmrKilocalories": 1750.0,
            "restingHeartRate": self._resting_hr(day),
            "minHeartRate": min(beats),
            "maxHeartRate": max(beats),
            "averageStressLevel": stress["avgStressLevel"],
            "maxStressLevel": stress["maxStressLevel"],
            "moderateIntensityMinutes": rng.randint(0, 60),
            "vigorousIntensityMinutes": rng.randint(0, 40),
            "floorsAscended": round(rng.uniform(0, 20), 1),
            "bodyBatteryChargedValue": battery["charged"],
            "bodyBatteryDrainedValue": battery["drained"],
            "includesWellnessData": True,
            "privacyProtected": False,
        }

    def heart_rate_payload(self, day: dt.date) -> dict:
        values = self._heart_rates(day) if self.has_data(day) else None
        beats = [v[1] for v in values or [] if v[1] is not None]
        return {
            "userProfilePK": PROFILE_PK,
            "calendarDate": day.isoformat(),
            **_day_bounds(day, "startTimestamp", "endTimestamp"),
            "maxHeartRate": max(beats) if beats else None,
            "minHeartRate": min(beats) if beats else None,
            "restingHeartRate": self._resting_hr(day) if beats else None,
            "lastSevenDaysAvgRestingHeartRate": 55 if beats else None,
            "heartRateValueDescriptors": [{"key": "timestamp", "index": 0}, {"key": "heartrate", "index": 1}],
            "heartRateValues": values,
        }

    def hrv_payload(self, day: dt.date) -> dict | None:
        """None (served as 204 No Content, as Garmin does) when there was no worn night."""
        if not self._slept(day):
            return None
        rng = self._rng(day, 5)
        start, end, _ = self._night(day)
        readings = [
            {
                "hrvValue": rng.randint(30, 80),
                "readingTimeGMT": _gmt_text(moment),
                "readingTimeLocal": _gmt_text(moment + LOCAL_OFFSET),
            }
            for moment in (
                start + dt.timedelta(minutes=m) for m in range(3, int((end - start).total_seconds() // 60), 30)
            )
        ]
        return {
            "userProfilePk": PROFILE_PK,
            "hrvSummary": {
                "calendarDate": day.isoformat(),
                "weeklyAvg": rng.randint(40, 60),
                "lastNightAvg": rng.randint(35, 70),
                "lastNight5MinHigh": rng.randint(70, 95),
                "status": rng.choice(["BALANCED", "BALANCED", "UNBALANCED", "LOW"]),
                "baseline": {"lowUpper": 38, "balancedLow": 42, "balancedUpper": 62, "markerValue": 0.5},
                "createTimeStamp": _gmt_text(end + dt.timedelta(minutes=20)),
            },
            "hrvReadings": readings,
            "startTimestampGMT": _gmt_text(start),
            "endTimestampGMT": _gmt_text(end),
            "startTimestampLocal": _gmt_text(start + LOCAL_OFFSET),
            "endTimestampLocal": _gmt_text(end + LOCAL_OFFSET),
            "sleepStartTimestampGMT": _gmt_text(start),
            "sleepEndTimestampGMT": _gmt_text(end),
        }

    def stress_payload(self, day: dt.date) -> dict:
        """Every 3 minutes; -1 when off the wrist, -2 in the activity (too much motion), as Garmin does."""
        values = []
        if self.has_data(day):
            rng, beats = self._rng(day, 6), self._heart_rates(day)
            for at, bpm in (beats[3 * i // 2] for i in range(SLOTS_PER_DAY * 2 // 3)):
                if bpm is None:
                    level = -1
                elif bpm > 100:
                    level = -2
                else:
                    level = max(0, min(99, round((bpm - self._resting_hr(day)) * 1.6 + rng.gauss(12, 8))))
                values.append([at, level])
        measured = [v[1] for v in values if v[1] >= 0]
        return {
            "userProfilePK": PROFILE_PK,
            "calendarDate": day.isoformat(),
            **_day_bounds(day, "startTimestamp", "endTimestamp"),
            "maxStressLevel": max(measured, default=None),
            "avgStressLevel": round(sum(measured) / len(measured)) if measured else None,
            "stressChartValueOffset": 1,
            "stressChartYAxisOrigin": -1,
            "stressValueDescriptorsDTOList": [{"key": "timestamp", "index": 0}, {"key": "stressLevel", "index": 1}],
            "stressValuesArray": values,
        }

    def body_battery_payload(self, day: dt.date) -> dict:
        """Charges while asleep, drains through the day, every 30 minutes."""
        rng, start = self._rng(day, 7), _day_start_gmt(day)
        _, wake, _ = self._night(day)
        level, values = rng.randint(15, 40), []
        for slot in range(48):
            at = start + dt.timedelta(minutes=30 * slot)
            step = rng.randint(4, 9) if self._slept(day) and at < wake else -rng.randint(1, 4)
            level = min(100, max(5, level + step))
            values.append([_ms(at), level])
        changes = [b[1] - a[1] for a, b in itertools.pairwise(values)]
        charged, drained = sum(c for c in changes if c > 0), -sum(c for c in changes if c < 0)
        return {
            "date": day.isoformat(),
            "charged": charged,
            "drained": drained,
            **_day_bounds(day, "startTimestamp", "endTimestamp"),
            "bodyBatteryValuesArray": values,
            "bodyBatteryValueDescriptorDTOList": [
                {"bodyBatteryValueDescriptorIndex": 0, "bodyBatteryValueDescriptorKey": "timestamp"},
                {"bodyBatteryValueDescriptorIndex": 1, "bodyBatteryValueDescriptorKey": "bodyBatteryLevel"},
            ],
        }

    def activities(self) -> list[dict]:
        """Every activity, newest first (the order Garmin's search lists them in)."""
        found = [a for a in map(self._activity, self.days_list) if a]
        return sorted(found, key=lambda a: a["beginTimestamp"], reverse=True)

    def profile_payload(self) -> dict:
        return {
            "id": PROFILE_PK,
            "profileId": PROFILE_PK,
            "garminGUID": "0f2c3a9e-fake-guid",
            "displayName": self.display_name,
            "userName": "fake.user@example.com",
            "fullName": "Fake User",
            "location": None,
            "profileVisibility": "private",
            "userLevel": 3,
        }

    # --- the API ---------------------------------------------------------------------
    def refresh(self, request: Request) -> tuple[int, object]:
        """Garmin DI OAuth refresh: client id in HTTP Basic, rotates both tokens on success.

        A refresh token that was revoked, or rotated by another refresh, answers
        ``400 {"error": "invalid_grant", "error_description": "Invalid refresh
        token: <the token>"}``: the real service quotes the token it refused
        (as garminconnect logs it: "DI token refresh failed: 400 ..."), so a tap
        must scrub it from any message.
        """
        form = request.form()
        if form.get("grant_type") != "refresh_token":
            return 400, {"error": "unsupported_grant_type"}
        if not self._client_ok(request.headers.get("Authorization"), form.get("client_id")):
            return 401, {"error": "invalid_client", "error_description": "client authentication failed"}
        with self._lock:
            if self._revoked or form.get("refresh_token") != self.refresh_token:
                sent = form.get("refresh_token")
                return 400, {"error": "invalid_grant", "error_description": f"Invalid refresh token: {sent}"}
            self.refresh_count += 1
            self.access_token = f"fake-access-{self.refresh_count}"
            self.refresh_token = f"fake-refresh-{self.refresh_count}"
            self._access_expired = False
            return 200, {
                "access_token": self.access_token,
                "refresh_token": self.refresh_token,
                "expires_in": 3600,
                "refresh_token_expires_in": 7776000,
                "token_type": "Bearer",
                "scope": "CONNECT_READ CONNECT_WRITE",
                "jti": f"jti-{self.refresh_count}",
            }

    @staticmethod
    def _client_ok(header: str | None, client_id: str | None) -> bool:
        """A Basic header must be present; its user must match the form's client_id when both are sent."""
        if not header or not header.startswith("Basic "):
            return False
        try:
            user = base64.b64decode(header[6:]).decode().split(":", 1)[0]
        except ValueError:
            return False
        return bool(user) and (client_id is None or user == client_id)

    def authorized(self, header: str | None) -> bool:
        with self._lock:
            return not (self._revoked or self._access_expired) and header == f"Bearer {self.access_token}"

    def answer(self, request: Request) -> tuple[int, object, dict]:
        if request.path == TOKEN_PATH and request.method == "POST":
            return (*self.refresh(request), {})
        if not self.authorized(request.headers.get("Authorization")):
            return 401, {"message": "HTTP 401 Unauthorized", "error": "Unauthorized"}, {}
        try:
            return (*self.route(request.path, request.query), {})
        except (KeyError, ValueError) as problem:  # a missing or malformed date/offset parameter
            return 400, {"message": f"bad request: {problem!s}", "error": "Bad Request"}, {}

    def route(self, path: str, query: dict) -> tuple[int, object]:
        """(status, body) for an authorised request; body None means no content."""

        def day(key: str = "date") -> dt.date:
            return dt.date.fromisoformat(query[key])

        def day_in_path() -> dt.date:
            return dt.date.fromisoformat(path.rsplit("/", 1)[1])

        name = f"/{self.display_name}"
        if path == PROFILE_PATH:
            return 200, self.profile_payload()
        if path == "/wellness-service/wellness/dailySleepData" + name:
            return 200, self.sleep_payload(day())
        if path == "/usersummary-service/usersummary/daily" + name:
            return 200, self.daily_summary_payload(day("calendarDate"))
        if path == "/wellness-service/wellness/dailyHeartRate" + name:
            return 200, self.heart_rate_payload(day())
        if path.startswith("/hrv-service/hrv/"):
            payload = self.hrv_payload(day_in_path())
            return (204, None) if payload is None else (200, payload)
        if path.startswith("/wellness-service/wellness/dailyStress/"):
            return 200, self.stress_payload(day_in_path())
        if path == "/wellness-service/wellness/bodyBattery/reports/daily":
            first, last = day("startDate"), day("endDate")
            return 200, [self.body_battery_payload(d) for d in self.days_list if first <= d <= last]
        if path == "/activitylist-service/activities/search/activities":
            return 200, self._activity_page(query)
        return 404, {"message": f"no such endpoint: {path}", "error": "Not Found"}

    def _activity_page(self, query: dict) -> list[dict]:
        """Offset paging over the newest-first list; startDate/endDate filter on the local date."""
        items = self.activities()
        if query.get("startDate"):
            items = [
                a for a in items if a["startTimeLocal"][:10] >= dt.date.fromisoformat(query["startDate"]).isoformat()
            ]
        if query.get("endDate"):
            items = [
                a for a in items if a["startTimeLocal"][:10] <= dt.date.fromisoformat(query["endDate"]).isoformat()
            ]
        start, limit = int(query.get("start", 0)), int(query.get("limit", 20))
        return items[start : start + limit]


def main() -> None:
    """Serve until killed; the one line printed tells the demo where."""
    parser = argparse.ArgumentParser(description="Serve the fake Garmin Connect API.")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--days", type=int, default=21)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    fake = FakeGarmin(days=args.days, seed=args.seed).start(args.port)
    print(f"fake garmin listening on {fake.url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
