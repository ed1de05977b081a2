"""Bronze rows are not deleted by accident: DELETE and TRUNCATE refused unless meant.

Tables are made by real `meltano run`s of tap-manual (the bundled templates)
into real PostgreSQL. The loader itself never deletes: incremental, full
refresh and target-postgres's stock load path still work with the refusal in
place, and `bronze.erase` removes chosen rows on purpose.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "manual"
TABLE = "bronze.manual__water_intake"


def run(meltano, *flags: str, extra: dict | None = None):
    return meltano.run(
        "run",
        *flags,
        "tap-manual",
        "target-postgres",
        extra_env={"TAP_MANUAL_MANUAL_DIR": str(SAMPLE), **(extra or {})},
    )


def count(meltano) -> int:
    return meltano.query(f"SELECT count(*) FROM {TABLE}")[0][0]


@pytest.mark.parametrize("statement", [f"DELETE FROM {TABLE}", f"DELETE FROM {TABLE} WHERE false", f"TRUNCATE {TABLE}"])
def test_delete_and_truncate_are_refused_with_a_clear_message(meltano, statement):
    run(meltano)
    before = count(meltano)
    assert before > 0
    with psycopg.connect(meltano.database_url) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege) as refused:
            conn.execute(statement)
    message = str(refused.value)
    assert f"bronze rows are immutable: {statement.split()[0]} on {TABLE} refused" in message
    assert "bronze.erase(" in refused.value.diag.message_hint
    assert "bronze.allow_delete" in refused.value.diag.message_hint
    assert count(meltano) == before


def test_deleting_is_allowed_when_the_session_means_it(meltano):
    run(meltano)
    before = count(meltano)
    with psycopg.connect(meltano.database_url, autocommit=True) as conn:
        conn.execute("SET bronze.allow_delete = on")
        assert conn.execute(f"DELETE FROM {TABLE} WHERE raw_id = (SELECT min(raw_id) FROM {TABLE})").rowcount == 1
        conn.execute("RESET bronze.allow_delete")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(f"TRUNCATE {TABLE}")
        # bronze.erase: the documented way; the session is left as it was.
        (erased,) = conn.execute("SELECT bronze.erase(%s, %s)", (TABLE, "true")).fetchone()
        assert erased == before - 1
        assert conn.execute("SELECT current_setting('bronze.allow_delete', true)").fetchone()[0] == ""
        with pytest.raises(psycopg.errors.RaiseException, match="give a condition"):
            conn.execute("SELECT bronze.erase(%s, %s)", (TABLE, " "))
    assert count(meltano) == 0


def test_tables_made_before_the_refusal_get_it_on_the_next_load(meltano):
    run(meltano)
    with psycopg.connect(meltano.database_url, autocommit=True) as conn:
        conn.execute(f"DROP TRIGGER refuse_delete ON {TABLE}")  # as an older checkout made it
    run(meltano)
    with psycopg.connect(meltano.database_url) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(f"DELETE FROM {TABLE}")


@pytest.mark.parametrize(
    "extra", [{}, {"TARGET_POSTGRES_FAST_COPY": "false"}], ids=["fast-copy", "target-postgres-stock-path"]
)
def test_the_loader_never_needs_to_delete(meltano, extra):
    """Incremental and full-refresh runs, on our COPY path and target-postgres's own, still pass."""
    run(meltano, extra=extra)
    before = meltano.query(f"SELECT raw_id, raw_hash, ingested_at FROM {TABLE} ORDER BY 1, 2")
    run(meltano, "--full-refresh", extra=extra)
    run(meltano, extra=extra)
    assert meltano.query(f"SELECT raw_id, raw_hash, ingested_at FROM {TABLE} ORDER BY 1, 2") == before
    triggers = meltano.query(
        "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal ORDER BY 1", TABLE
    )
    assert triggers == [("keep_first_landing",), ("refuse_delete",)]
