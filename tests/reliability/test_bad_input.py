"""Bad input through an HTTP tap into PostgreSQL, and a `next` cursor that cycles.

A fake Airtable serves, between ordinary records, one record per kind of bad
input (hand-written JSON bytes, since a JSON encoder cannot produce most of
them) after an empty first page that still names a next page. Each bad one
must land as ``invalid`` with a readable reason (or land ``valid`` where it is
merely unusual), and every ordinary record must land too.
"""

from __future__ import annotations

import json

from tests.fakes.airtable_api import BASE_ID, FakeAirtable
from tests.tap_runner import records, run_tap

TABLE = "Body measurements"
T = '"createdTime":"2024-01-01T00:00:00.000Z"'
HUGE = 10 * 1024 * 1024

#: raw_id -> (record as raw JSON bytes, expected status, a phrase the reason must hold)
BAD = {
    "recNULBYTE0000001": (
        b'{"id":"recNULBYTE0000001",' + T.encode() + b',"fields":{"Note":"a\\u0000b"}}',
        "invalid",
        "NUL",
    ),
    "recSURROGATE00001": (
        b'{"id":"recSURROGATE00001",' + T.encode() + b',"fields":{"Note":"\\ud800x"}}',
        "invalid",
        "surrogate",
    ),
    "recBADUTF80000001": (
        b'{"id":"recBADUTF80000001",' + T.encode() + b',"fields":{"Note":"\xff\xfeok"}}',
        "invalid",
        "surrogate",
    ),
    "recINFINITY000001": (
        b'{"id":"recINFINITY000001",' + T.encode() + b',"fields":{"Weight (kg)":1e400}}',
        "invalid",
        "beyond float range",
    ),
    "recDUPKEYS0000001": (
        b'{"id":"recDUPKEYS0000001",' + T.encode() + b',"fields":{"W":70,"W":71}}',
        "invalid",
        "repeated keys",
    ),
    "recDEEP0000000001": (
        b'{"id":"recDEEP0000000001",' + T.encode() + b',"fields":{"Deep":' + b"[" * 400 + b"]" * 400 + b"}}",
        "invalid",
        "nested deeper",
    ),
    "recSCHEMA00000001": (
        b'{"id":"recSCHEMA00000001","createdTime":12345,"fields":"not an object"}',
        "invalid",
        "is not of type",
    ),
    "recHUGE0000000001": (
        b'{"id":"recHUGE0000000001",' + T.encode() + b',"fields":{"Note":"' + b"x" * HUGE + b'"}}',
        "valid",
        None,
    ),
    "recBIGINT00000001": (
        b'{"id":"recBIGINT00000001",' + T.encode() + b',"fields":{"N":123456789012345678901234567890}}',
        "valid",
        None,
    ),
    "recYEAR1000000001": (
        b'{"id":"recYEAR1000000001","createdTime":"0001-01-01T00:00:00.000Z","fields":{}}',
        "valid",
        None,
    ),
    "recYEAR9999000001": (
        b'{"id":"recYEAR9999000001","createdTime":"9999-12-31T23:59:59.000Z","fields":{}}',
        "valid",
        None,
    ),
    "recNOZONE00000001": (b'{"id":"recNOZONE00000001","createdTime":"2024-01-01T10:00:00","fields":{}}', "valid", None),
}


class BadAirtable(FakeAirtable):
    """Body measurements: an empty page naming a next page, then good and bad records."""

    def answer(self, request):
        if (
            TABLE.replace(" ", "%20") not in request.path
            or request.headers.get("Authorization") != f"Bearer {self.token}"
        ):
            return super().answer(request)
        if "offset" not in request.query:
            return 200, {"records": [], "offset": "itr0/empty"}, {}
        good = [json.dumps(r).encode() for r in self.tables[TABLE]]
        return 200, b'{"records":[' + b",".join(good + [raw for raw, _, _ in BAD.values()]) + b"]}", {}


class LoopingAirtable(FakeAirtable):
    """Inventory hands out offsets A, B, A, ...: a cursor that cycles."""

    def answer(self, request):
        if "Inventory" not in request.path:
            return super().answer(request)
        rows = self.tables["Inventory"]
        at = {None: 0, "itrA": 1, "itrB": 2}[request.query.get("offset")]
        return 200, {"records": rows[at * 10 : at * 10 + 10], "offset": "itrA" if at != 1 else "itrB"}, {}


def env(fake, tables):
    return {
        "TAP_AIRTABLE_API_TOKEN": fake.token,
        "TAP_AIRTABLE_API_URL": fake.url + "/v0",
        "TAP_AIRTABLE_BASE_ID": BASE_ID,
        "TAP_AIRTABLE_TABLES": json.dumps(tables),
        "TAP_AIRTABLE_BACKOFF_BASE_MS": "5",
        "TAP_AIRTABLE_MAX_RETRIES": "1",
    }


def test_bad_records_land_invalid_with_reasons_and_the_rest_lands(meltano):
    with BadAirtable(rows=30) as fake:
        meltano.run("run", "tap-airtable", "target-postgres", extra_env=env(fake, [TABLE]))
        rows = {
            r[0]: r[1:]
            for r in meltano.query(
                "SELECT raw_id, validation_status, error_message, raw_data, source_timestamp, "
                "octet_length(raw_data::text) FROM bronze.airtable__body_measurements"
            )
        }
        for record in fake.tables[TABLE]:  # every ordinary record, after the empty page
            assert rows[record["id"]][0] == "valid" and rows[record["id"]][2] == record
        for key, (_, status, phrase) in BAD.items():
            raw_id = key
            assert raw_id in rows, f"{raw_id} did not land"
            got_status, reason = rows[raw_id][0], rows[raw_id][1]
            assert got_status == status, f"{raw_id}: {got_status} ({reason})"
            if phrase:
                assert phrase in reason, f"{raw_id}: {reason}"
        assert rows["recNULBYTE0000001"][2]["fields"]["Note"] == "a\\u0000b"
        assert rows["recBADUTF80000001"][2]["fields"]["Note"] == "\\udcff\\udcfeok"
        assert rows["recINFINITY000001"][2]["fields"]["Weight (kg)"] == "inf"
        assert rows["recDUPKEYS0000001"][2]["fields"] == {"W": 71}
        assert rows["recHUGE0000000001"][4] > HUGE
        assert rows["recBIGINT00000001"][2]["fields"]["N"] == 123456789012345678901234567890
        assert rows["recYEAR1000000001"][3].year == 1 and rows["recYEAR9999000001"][3].year == 9999
        assert rows["recNOZONE00000001"][3].hour == 10  # Airtable times are UTC; a zoneless one is read as UTC
        assert len(rows) == len(fake.tables[TABLE]) + len(BAD)


def test_a_cycling_next_cursor_stops_with_an_error_and_the_rest_lands(tmp_path):
    with LoopingAirtable(rows=30) as fake:
        config = {
            "api_token": fake.token,
            "api_url": fake.url + "/v0",
            "base_id": BASE_ID,
            "tables": [TABLE, "Inventory"],
            "backoff_base_ms": 5,
        }
        result, messages, _ = run_tap("tap-airtable", config, tmp_path)
        assert result.returncode != 0
        assert "pagination loop" in result.stderr, result.stderr[-3000:]
        assert len(records(messages, "airtable__body_measurements")) == len(fake.tables[TABLE])
        assert len(records(messages, "airtable__inventory")) == 30  # the three pages before the repeat
        asked = [r for r in fake.requests if "Inventory" in r["path"]]
        assert len(asked) == 3
