"""tap-hubspot end to end through `meltano run` into PostgreSQL."""

from __future__ import annotations

import json

from tests.fakes.hubspot_api import FakeHubspot


def run_hubspot(meltano, fake):
    return meltano.run(
        "run",
        "tap-hubspot",
        "target-postgres",
        extra_env={
            "TAP_HUBSPOT_API_TOKEN": fake.token,
            "TAP_HUBSPOT_API_URL": fake.url,
            "TAP_HUBSPOT_OBJECTS": json.dumps(["contacts", "companies", "meetings"]),
            "TAP_HUBSPOT_REQUESTS_PER_SECOND": "50",
            "TAP_HUBSPOT_BACKOFF_BASE_MS": "10",
        },
    )


def test_objects_land_once_and_edits_land_as_versions(meltano):
    with FakeHubspot(per_type=50) as fake:
        run_hubspot(meltano, fake)
        contacts = meltano.query("SELECT raw_id, raw_data FROM bronze.hubspot__contacts")
        assert {r[0]: r[1] for r in contacts} == {r["id"]: r for r in fake.objects["contacts"]}
        assert meltano.query("SELECT count(*) FROM bronze.hubspot__meetings")[0][0] == 50

        run_hubspot(meltano, fake)
        assert meltano.query("SELECT count(*) FROM bronze.hubspot__contacts")[0][0] == 50

        edited = fake.edit("companies", 3, city="Utrecht")
        run_hubspot(meltano, fake)
        versions = meltano.query(
            "SELECT raw_data->'properties'->>'city' FROM bronze.hubspot__companies "
            "WHERE raw_id = %s ORDER BY ingested_at",
            edited["id"],
        )
        assert [v[0] for v in versions][-1] == "Utrecht" and len(versions) == 2
