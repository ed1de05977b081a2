"""The taps the reliability battery runs against, described once.

Every API tap is one ``ApiTap``: how to start its fake, the environment that
points ``meltano run`` at it (with tiny backoff settings), the request path
faults are injected on, and the rows bronze must hold afterwards. A new API
tap joins the whole battery by adding one entry to ``API_TAPS``.

File taps get the file-side cases (tests/reliability/test_files_*.py); a new
file tap joins them by adding an entry to ``FILE_TAPS``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from tests import tap_runner
from tests.fakes import garmin_api, hidrate_api
from tests.fakes.airtable_api import BASE_ID, FakeAirtable
from tests.fakes.garmin_api import FakeGarmin
from tests.fakes.hidrate_api import FakeHidrate
from tests.fakes.hubspot_api import FakeHubspot
from tests.fakes.notion_api import FakeNotion
from tests.fakes.openmeteo_api import FakeOpenMeteo
from tests.fakes.toggl_api import FakeToggl

#: Every tap gets these: retries enough for a whole fault sequence, waits of milliseconds.
FAST = {"REQUEST_TIMEOUT": "1", "MAX_RETRIES": "12", "BACKOFF_BASE_MS": "5", "BACKOFF_MAX_SECONDS": "2"}


@dataclass
class ApiTap:
    name: str
    make_fake: Callable
    settings: Callable  # fake -> {setting: value}
    fault_path: str  # faults go to requests whose path contains this
    expected: Callable  # fake -> {table: {raw_id: raw_data}}
    secrets: Callable = lambda fake: []  # fake -> recognisable secret values the run used
    #: The setting a revoked credential is reported against, with the settings that revoke it.
    auth_setting: str | None = None
    revoke: Callable | None = None  # fake -> settings overrides (or None: change the fake)
    #: Fault that makes the tap refresh its credentials and go on, where the source has refresh.
    expire: dict | None = None
    #: Where the source refreshes: makes its next refresh (or login) be refused as the source
    #: refuses it (fake -> None), the path of that endpoint, the stream ``fault_path`` reads
    #: and the SQL of that stream's cursor value in a bronze row.
    refuse_refresh: Callable | None = None
    auth_path: str = ""
    fault_stream: str = ""
    cursor_sql: str = ""
    fault_skip: int = 1
    extra: dict = field(default_factory=dict)

    @property
    def prefix(self) -> str:
        return self.name.upper().replace("-", "_") + "_"

    def env(self, fake, **overrides) -> dict:
        values = {
            **FAST,
            **{k.upper(): v for k, v in self.settings(fake).items()},
            **{k.upper(): v for k, v in self.extra.items()},
            **{k.upper(): v for k, v in overrides.items()},
        }
        return {self.prefix + key: str(value) for key, value in values.items()}


def _garmin_revoke(fake):
    fake.revoke()
    return {}


def _hidrate_password_changed(fake):
    """The password was changed in the app after the run logged in: the next login is refused
    the way Parse refuses one (404, ``code`` 101)."""
    body = json.dumps({"code": 101, "error": "Invalid username/password."})
    fake.inject("status", path_contains="/parse/login", skip=1, status=404, body=body)


def _openmeteo_start():
    return dt.datetime.now(dt.UTC).date() - dt.timedelta(days=40)


AIRTABLE_TABLES = [{"name": "Inventory", "last_modified_field": "Last modified"}, "Body measurements"]

API_TAPS = [
    ApiTap(
        "tap-garmin",
        lambda: FakeGarmin(days=6, access_token="GARMINACCESS-s3cr3t-0", refresh_token="GARMINREFRESH-s3cr3t-0"),
        tap_runner.garmin_config,
        "dailySleepData",
        lambda f: {
            "garmin__sleep": {d.isoformat(): f.sleep_payload(d) for d in f.days_list},
            "garmin__activities": {str(a["activityId"]): a for a in f.activities()},
        },
        secrets=lambda f: ["GARMINACCESS-s3cr3t", "GARMINREFRESH-s3cr3t", "fake-access-", "fake-refresh-"],
        auth_setting="refresh_token",
        revoke=_garmin_revoke,
        expire={"kind": "status", "status": 401},
        refuse_refresh=lambda f: f.refresh_elsewhere(),
        auth_path=garmin_api.TOKEN_PATH,
        fault_stream="garmin__sleep",
        cursor_sql="source_timestamp",
        fault_skip=2,
    ),
    ApiTap(
        "tap-toggl",
        lambda: FakeToggl(api_token="TOGGLTOKEN-s3cr3t-5150", days=30),
        lambda f: tap_runner.toggl_config(f, max_requests_per_run=200),
        "/me/time_entries",
        lambda f: {"toggl__time_entries": {str(e["id"]): e for e in f.visible_entries()}},
        secrets=lambda f: [f.api_token],
        auth_setting="api_token",
        revoke=lambda f: {"api_token": "TOGGLTOKEN-s3cr3t-REVOKED"},
    ),
    ApiTap(
        "tap-notion",
        lambda: FakeNotion(token="ntn_NOTIONTOKEN_s3cr3t_77", pages_per_source=30),
        lambda f: {"api_token": f.token, "api_url": f.url + "/v1", "database_ids": json.dumps(f.database_ids())},
        "/query",
        lambda f: {"notion__pages": {p["id"]: p for p in f.all_pages()}},
        secrets=lambda f: [f.token],
        auth_setting="api_token",
        revoke=lambda f: {"api_token": "ntn_NOTIONTOKEN_s3cr3t_REVOKED"},
    ),
    ApiTap(
        "tap-airtable",
        lambda: FakeAirtable(token="patAIRTABLETOKEN.s3cr3t99", rows=120),
        lambda f: {
            "api_token": f.token,
            "api_url": f.url + "/v0",
            "base_id": BASE_ID,
            "tables": json.dumps(AIRTABLE_TABLES),
            "rate_limit_wait_seconds": 1,
        },
        BASE_ID,
        lambda f: {
            "airtable__inventory": {r["id"]: r for r in f.tables["Inventory"]},
            "airtable__body_measurements": {r["id"]: r for r in f.tables["Body measurements"]},
        },
        secrets=lambda f: [f.token],
        auth_setting="api_token",
        revoke=lambda f: {"api_token": "patAIRTABLETOKEN.s3cr3tREVOKED"},
    ),
    ApiTap(
        "tap-openmeteo",
        FakeOpenMeteo,
        lambda f: {
            "api_url": f.url + "/v1",
            "start_date": _openmeteo_start().isoformat(),
            "locations": json.dumps([{"name": "home", "latitude": 52.52, "longitude": 13.41}]),
            "chunk_days": 10,
        },
        "/archive",
        lambda f: {
            "openmeteo__weather": {
                f"home:{(_openmeteo_start() + dt.timedelta(days=n)).isoformat()}": None for n in range(41)
            }
        },
    ),
    ApiTap(
        "tap-hidrate",
        lambda: FakeHidrate(password="HIDRATEPASS-s3cr3t-42", days=20),
        lambda f: {
            "api_url": f.url + "/parse",
            "username": f.username,
            "password": f.password,
            "app_id": hidrate_api.APP_ID,
            "client_key": hidrate_api.CLIENT_KEY,
            "page_size": 50,
        },
        "/classes/Sip",
        lambda f: {"hidrate__sips": {o["objectId"]: o for o in f.classes["Sip"]}},
        secrets=lambda f: [f.password, "r:fake-session-"],
        auth_setting="password",
        revoke=lambda f: {"password": "HIDRATEPASS-s3cr3t-REVOKED"},
        expire={"kind": "status", "status": 400, "body": json.dumps({"code": 209, "error": "invalid session token"})},
        refuse_refresh=_hidrate_password_changed,
        auth_path="/parse/login",
        fault_stream="hidrate__sips",
        cursor_sql="(raw_data->>'updatedAt')::timestamptz",
    ),
    ApiTap(
        "tap-hubspot",
        lambda: FakeHubspot(token="pat-na1-HUBSPOTTOKEN-s3cr3t", per_type=60),
        lambda f: {
            "api_token": f.token,
            "api_url": f.url,
            "objects": json.dumps(["contacts", "companies", "meetings"]),
            "requests_per_second": 50,
        },
        "/contacts/search",
        lambda f: {
            "hubspot__contacts": {r["id"]: r for r in f.objects["contacts"]},
            "hubspot__meetings": {r["id"]: r for r in f.objects["meetings"]},
        },
        secrets=lambda f: [f.token],
        auth_setting="api_token",
        revoke=lambda f: {"api_token": "pat-na1-HUBSPOTTOKEN-s3cr3t-REVOKED"},
        fault_skip=0,
    ),
]

API_TAP_NAMES = [t.name for t in API_TAPS]

#: File taps (read exports / files on disk). The lead adds tap-apple-health,
#: tap-wearable-csv and tap-manual here as they land; the file cases run over this list.
FILE_TAPS = ["tap-garmin-export"]

#: The fault sequence injected into one run: each is served to the next retry of the same request.
FAULT_SEQUENCE = [
    {"kind": "status", "status": 429},
    {"kind": "status", "status": 429, "headers": {"Retry-After": "1"}},
    {"kind": "status", "status": 500},
    {"kind": "status", "status": 502},
    {"kind": "status", "status": 503},
    {"kind": "reset"},
    {"kind": "timeout"},
    {"kind": "html200"},
    {"kind": "truncated"},
]
