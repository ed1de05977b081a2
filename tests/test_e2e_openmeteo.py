"""tap-openmeteo end to end through `meltano run` into PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json

from tests.fakes.openmeteo_api import FakeOpenMeteo

LOCATIONS = [{"name": "home", "latitude": 52.52, "longitude": 13.41}]


def run_weather(meltano, fake, start):
    return meltano.run(
        "run",
        "tap-openmeteo",
        "target-postgres",
        extra_env={
            "TAP_OPENMETEO_API_URL": fake.url + "/v1",
            "TAP_OPENMETEO_LOCATIONS": json.dumps(LOCATIONS),
            "TAP_OPENMETEO_START_DATE": start.isoformat(),
            "TAP_OPENMETEO_BACKOFF_BASE_MS": "10",
        },
    )


def test_days_land_once_and_revisions_land_as_versions(meltano):
    today = dt.datetime.now(dt.UTC).date()
    start = today - dt.timedelta(days=40)
    with FakeOpenMeteo() as fake:
        run_weather(meltano, fake, start)
        count = meltano.query("SELECT count(*) FROM bronze.openmeteo__weather")[0][0]
        assert count == 41
        run_weather(meltano, fake, start)  # the trailing week again, unchanged
        assert meltano.query("SELECT count(*) FROM bronze.openmeteo__weather")[0][0] == 41

        revised = today - dt.timedelta(days=3)
        fake.revise(revised)
        run_weather(meltano, fake, start)
        versions = meltano.query(
            "SELECT raw_hash FROM bronze.openmeteo__weather WHERE raw_id = %s", f"home:{revised.isoformat()}"
        )
        assert len(versions) == 2
        assert meltano.query("SELECT count(*) FROM bronze.openmeteo__weather")[0][0] == 42
