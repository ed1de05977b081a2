"""Secrets, hostile names, zip-slip and zip bombs, and what listens on the network.

(Secrets in logs, state, bronze rows and exception text after real runs,
successful and failing, are checked by test_faults.py, on the same runs.)
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import psycopg
import pytest
import yaml

import metrics
from bronze_core.file_streams import fingerprint
from bronze_core.files import FileFormatError, iter_json_array, list_files
from bronze_core.files.zips import _CappedReader
from tests.fakes.airtable_api import BASE_ID, FakeAirtable
from tests.fakes.garmin_export import expected_counts, write_export
from tests.fakes.notion_api import FakeNotion
from tests.reliability.cases import API_TAPS, FILE_TAPS
from tests.reliability.helpers import assert_no_secret

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = 'x"; DROP TABLE bronze.y; --'
#: Setting names that hold secrets, in any tap.
SECRET_SETTINGS = {"api_token", "access_token", "refresh_token", "password", "app_id", "client_key"}


def extractor_settings():
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    for plugin in project["plugins"]["extractors"]:
        for setting in plugin.get("settings", []):
            yield plugin["name"], setting


def test_secret_settings_are_redacted_by_meltano():
    """Meltano 4.4 reads `kind: password` as the deprecated spelling of `sensitive: true`
    (meltano/core/setting_definition.py), so either is accepted here; the project uses
    `sensitive: true`, which `meltano config` redacts."""
    seen = set()
    for plugin, setting in extractor_settings():
        if setting["name"] == "token_file":  # a path to the secret, not the secret
            continue
        if setting["name"] in SECRET_SETTINGS or any(w in setting["name"] for w in ("token", "secret", "password")):
            seen.add(setting["name"])
            assert setting.get("sensitive") is True or setting.get("kind") == "password", (
                f"{plugin}: setting {setting['name']} holds a secret but is not sensitive"
            )
    assert seen == SECRET_SETTINGS


@pytest.mark.parametrize("tap", [t for t in API_TAPS if t.auth_setting], ids=lambda t: t.name)
def test_meltano_config_output_hides_secrets(meltano, tap):
    fake = tap.make_fake()  # not started: only its credentials are used
    env = tap.env(fake)
    secrets = [v for k, v in env.items() if k[len(tap.prefix) :].lower() in SECRET_SETTINGS]
    assert secrets
    # Meltano 4.4 spells `meltano config <tap> [list]` as `meltano config print|list <tap>`.
    listed = meltano.run("config", "list", tap.name, extra_env=env)
    shown = meltano.run("config", "print", tap.name, extra_env=env)
    assert_no_secret(
        secrets,
        **{"meltano config list": listed.stdout + listed.stderr, "meltano config print": shown.stdout + shown.stderr},
    )
    assert "(redacted)" in listed.stdout or "****" in shown.stdout + listed.stdout


def test_hostile_airtable_table_name_cannot_inject_sql(meltano):
    meltano.query("SELECT 1")
    with FakeAirtable(rows=30) as fake:
        fake.tables[HOSTILE] = [dict(r) for r in fake.tables["Body measurements"]]
        _create_canary(meltano)
        meltano.run(
            "run",
            "tap-airtable",
            "target-postgres",
            extra_env={
                "TAP_AIRTABLE_API_TOKEN": fake.token,
                "TAP_AIRTABLE_API_URL": fake.url + "/v0",
                "TAP_AIRTABLE_BASE_ID": BASE_ID,
                "TAP_AIRTABLE_TABLES": json.dumps([HOSTILE, "Inventory"]),
                "TAP_AIRTABLE_BACKOFF_BASE_MS": "5",
            },
        )
        assert _canary_stands(meltano), "the canary table was dropped"
        rows = meltano.query("SELECT raw_id, raw_data FROM bronze.airtable__x_drop_table_bronze_y")
        assert {r[0]: r[1] for r in rows} == {r["id"]: r for r in fake.tables[HOSTILE]}
        assert meltano.query("SELECT count(*) FROM bronze.airtable__inventory")[0][0] == 30
        # The name went to the API as one URL path segment, not as path syntax.
        assert any(r["path"].count("/") == 3 and "DROP" in r["path"] for r in fake.requests)


def test_hostile_notion_database_id_and_title_cannot_inject_sql(meltano):
    with FakeNotion(pages_per_source=10) as fake:
        real = fake.database_ids()
        fake.databases[real[0]]["title"][0]["plain_text"] = HOSTILE
        _create_canary(meltano)
        result = meltano.run(
            "run",
            "tap-notion",
            "target-postgres",
            check=False,
            extra_env={
                "TAP_NOTION_API_TOKEN": fake.token,
                "TAP_NOTION_API_URL": fake.url + "/v1",
                "TAP_NOTION_DATABASE_IDS": json.dumps(real + [HOSTILE]),
                "TAP_NOTION_BACKOFF_BASE_MS": "5",
            },
        )
        assert _canary_stands(meltano), "the canary table was dropped"
        # The unknown id is refused by the API (404, a clear failure); it reached it as one segment.
        assert result.returncode != 0 and "404" in result.stdout + result.stderr
        hostile_requests = [r["path"] for r in fake.requests if "DROP" in r["path"]]
        assert hostile_requests and all(p.count("/") == 3 for p in hostile_requests)
        titles = meltano.query("SELECT raw_data->'title'->0->>'plain_text' FROM bronze.notion__databases")
        assert (HOSTILE,) in titles  # a hostile title is just data


def _canary_stands(meltano) -> bool:
    """Whether bronze.y is still there (it has no raw_id, so it is no bronze table)."""
    return meltano.query("SELECT to_regclass('bronze.y') IS NOT NULL")[0][0]


def _create_canary(meltano):
    """bronze.y: the table the hostile names try to drop."""
    with psycopg.connect(meltano.database_url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS bronze")
        conn.execute("CREATE TABLE IF NOT EXISTS bronze.y (id int)")


def test_health_and_metrics_bind_to_localhost_by_default():
    server = metrics.serve(port=0)
    try:
        assert server.server_address[0] == "127.0.0.1"
    finally:
        server.server_close()
    # The script as a user starts it, with no --host.
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "metrics.py"), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        line = process.stdout.readline()
    finally:
        process.kill()
        process.wait()
    assert line.startswith("serving /health and /metrics on http://127.0.0.1:"), line


# --- zips ---------------------------------------------------------------------------


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_zip_slip_members_are_read_in_place_and_nothing_is_written(tmp_path):
    work = tmp_path / "inside" / "deeper"
    work.mkdir(parents=True)
    archive = _zip(
        work / "evil.zip", {"../../evil_sleepData.json": b'[{"a": 1}]', "/abs/evil_sleepData.json": b'[{"b": 2}]'}
    )
    before = sorted(p for p in tmp_path.rglob("*"))
    found = list_files(archive, ["*_sleepData.json"])
    items = [item for source in found for _, item in iter_json_array(source)]
    assert items == [{"b": 2}, {"a": 1}] or sorted(map(json.dumps, items)) == ['{"a": 1}', '{"b": 2}']
    assert sorted(p for p in tmp_path.rglob("*")) == before, "reading a zip wrote files"
    assert not Path("/abs/evil_sleepData.json").exists()


def test_zip_bomb_member_is_refused_by_its_declared_size(tmp_path, monkeypatch):
    monkeypatch.setenv("BRONZE_MAX_MEMBER_BYTES", str(1 << 20))
    bomb = b"[" + b" " * (8 << 20) + b"]"  # 8 MB of spaces: deflates to a few KB
    archive = _zip(tmp_path / "bomb.zip", {"x_sleepData.json": bomb})
    assert archive.stat().st_size < 100_000
    (source,) = list_files(archive, ["*_sleepData.json"])
    with pytest.raises(FileFormatError, match="zip bomb"):
        fingerprint(source)


def test_zip_member_is_cut_at_the_cap_whatever_its_header_says():
    reader = _CappedReader(io.BytesIO(b"0" * 5000), 4096, "x.zip!m")
    with pytest.raises(FileFormatError, match="reached 4097 bytes"):
        while reader.read(1000):
            pass
    assert _CappedReader(io.BytesIO(b"0" * 4096), 4096, "x.zip!m").read() == b"0" * 4096


@pytest.mark.parametrize("file_tap", FILE_TAPS)
def test_zip_bomb_in_an_export_fails_the_run_clearly_after_the_rest_landed(meltano, tmp_path, file_tap):
    assert file_tap == "tap-garmin-export", "add the new file tap's export writer here"
    archive = write_export(tmp_path / "garmin.zip", days=7, as_zip=True)
    with zipfile.ZipFile(archive, "a", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("DI_CONNECT/DI-Connect-Wellness/bomb_sleepData.json", b"[" + b" " * (4 << 20) + b"]")
    result = meltano.run(
        "run",
        file_tap,
        "target-postgres",
        check=False,
        extra_env={"TAP_GARMIN_EXPORT_EXPORT_PATH": str(archive), "BRONZE_MAX_MEMBER_BYTES": str(1 << 20)},
    )
    assert result.returncode != 0
    assert "bomb_sleepData.json" in result.stderr and "zip bomb" in result.stderr
    assert meltano.query("SELECT count(*) FROM bronze.garmin__export_sleep")[0][0] == expected_counts(days=7)["sleep"]
