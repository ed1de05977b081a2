"""tap-airtable end to end through `meltano run` into PostgreSQL."""

from __future__ import annotations

import json

from tests.fakes.airtable_api import BASE_ID, FakeAirtable

TABLES = [{"name": "Inventory", "last_modified_field": "Last modified"}, "Body measurements"]


def run_airtable(meltano, fake):
    return meltano.run(
        "run",
        "tap-airtable",
        "target-postgres",
        extra_env={
            "TAP_AIRTABLE_API_TOKEN": fake.token,
            "TAP_AIRTABLE_API_URL": fake.url + "/v0",
            "TAP_AIRTABLE_BASE_ID": BASE_ID,
            "TAP_AIRTABLE_TABLES": json.dumps(TABLES),
            "TAP_AIRTABLE_BACKOFF_BASE_MS": "10",
        },
    )


def test_tables_land_once_and_changes_land_as_versions(meltano):
    with FakeAirtable(rows=120) as fake:
        run_airtable(meltano, fake)
        inventory = meltano.query("SELECT raw_id, raw_data FROM bronze.airtable__inventory")
        assert {r[0]: r[1] for r in inventory} == {r["id"]: r for r in fake.tables["Inventory"]}
        body = meltano.query("SELECT raw_id, raw_data FROM bronze.airtable__body_measurements")
        assert {r[0]: r[1] for r in body} == {r["id"]: r for r in fake.tables["Body measurements"]}

        run_airtable(meltano, fake)  # the whole body table again, the inventory since its cursor
        assert meltano.query("SELECT count(*) FROM bronze.airtable__inventory")[0][0] == len(inventory)
        assert meltano.query("SELECT count(*) FROM bronze.airtable__body_measurements")[0][0] == len(body)

        changed = fake.edit("Body measurements", 4, **{"Weight (kg)": 71.3})
        run_airtable(meltano, fake)
        versions = meltano.query(
            "SELECT raw_data->'fields'->>'Weight (kg)' FROM bronze.airtable__body_measurements "
            "WHERE raw_id = %s ORDER BY ingested_at",
            changed["id"],
        )
        assert [v[0] for v in versions][-1] == "71.3" and len(versions) == 2
