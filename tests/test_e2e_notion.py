"""tap-notion end to end through `meltano run` into PostgreSQL."""

from __future__ import annotations

import json

from tests.fakes.notion_api import FakeNotion


def run_notion(meltano, fake, *flags):
    return meltano.run(
        "run",
        *flags,
        "tap-notion",
        "target-postgres",
        extra_env={
            "TAP_NOTION_API_TOKEN": fake.token,
            "TAP_NOTION_API_URL": fake.url + "/v1",
            "TAP_NOTION_DATABASE_IDS": json.dumps(fake.database_ids()),
            "TAP_NOTION_BACKOFF_BASE_MS": "10",
        },
    )


def test_pages_land_once_and_edits_land_as_versions(meltano):
    with FakeNotion(pages_per_source=40) as fake:
        run_notion(meltano, fake)
        rows = meltano.query("SELECT raw_id, raw_data, metadata FROM bronze.notion__pages")
        assert {r[0]: r[1] for r in rows} == {p["id"]: p for p in fake.all_pages()}
        by_source = {(r[2]["database_id"], r[2]["data_source_id"]) for r in rows}
        assert by_source == {(p["parent"]["database_id"], p["parent"]["data_source_id"]) for p in fake.all_pages()}
        assert meltano.query("SELECT count(*) FROM bronze.notion__databases")[0][0] == 2

        run_notion(meltano, fake)
        assert meltano.query("SELECT count(*) FROM bronze.notion__pages")[0][0] == len(rows)

        edited = fake.edit_page(2, 7, Done={"id": "c%3Dd", "type": "checkbox", "checkbox": False})
        run_notion(meltano, fake)
        versions = meltano.query(
            "SELECT raw_data->'properties'->'Done'->>'checkbox' FROM bronze.notion__pages "
            "WHERE raw_id = %s ORDER BY ingested_at",
            edited["id"],
        )
        assert len(versions) == 2 and versions[-1][0] == "false"
        assert meltano.query("SELECT count(*) FROM bronze.notion__pages")[0][0] == len(rows) + 1

        run_notion(meltano, fake, "--full-refresh")
        assert meltano.query("SELECT count(*) FROM bronze.notion__pages")[0][0] == len(rows) + 1
