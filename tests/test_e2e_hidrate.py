"""tap-hidrate end to end through `meltano run` into PostgreSQL."""

from __future__ import annotations

from tests.fakes.hidrate_api import APP_ID, CLIENT_KEY, FakeHidrate


def run_hidrate(meltano, fake):
    return meltano.run(
        "run",
        "tap-hidrate",
        "target-postgres",
        extra_env={
            "TAP_HIDRATE_API_URL": fake.url + "/parse",
            "TAP_HIDRATE_USERNAME": fake.username,
            "TAP_HIDRATE_PASSWORD": fake.password,
            "TAP_HIDRATE_APP_ID": APP_ID,
            "TAP_HIDRATE_CLIENT_KEY": CLIENT_KEY,
            "TAP_HIDRATE_BACKOFF_BASE_MS": "10",
        },
    )


def test_sips_land_once_then_only_new_ones(meltano):
    with FakeHidrate(days=20) as fake:
        first = run_hidrate(meltano, fake)
        sips = meltano.query("SELECT raw_id, raw_data FROM bronze.hidrate__sips")
        assert {r[0]: r[1] for r in sips} == {o["objectId"]: o for o in fake.classes["Sip"]}
        assert meltano.query("SELECT count(*) FROM bronze.hidrate__days")[0][0] == 20

        new = fake.log_sip(180)
        run_hidrate(meltano, fake)
        assert meltano.query("SELECT count(*) FROM bronze.hidrate__sips")[0][0] == len(sips) + 1
        assert meltano.query("SELECT count(*) FROM bronze.hidrate__sips WHERE raw_id = %s", new["objectId"])[0][0] == 1

        leaked = meltano.query(
            "SELECT count(*) FROM bronze.hidrate__sips WHERE metadata::text LIKE %s", f"%{fake.password}%"
        )[0][0]
        assert leaked == 0 and fake.password not in first.stdout + first.stderr
