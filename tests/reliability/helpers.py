"""Running a tap of the battery and checking bronze against its fake source."""

from __future__ import annotations

from tests.reliability.cases import ApiTap


def run(meltano, tap: ApiTap, fake, *, check: bool = False, extra_env: dict | None = None, **overrides):
    """One ordinary ``meltano run <tap> target-postgres`` against the fake, logging at debug level
    (the most a log can say, so the secret checks see everything)."""
    return meltano.run(
        "--log-level=debug",
        "run",
        tap.name,
        "target-postgres",
        check=check,
        extra_env={**tap.env(fake, **overrides), **(extra_env or {})},
    )


def assert_no_secret(secrets, **places) -> None:
    """None of ``secrets`` occurs in any of ``places`` (name -> text)."""
    assert secrets, "a secret check without secrets proves nothing"
    for name, text in places.items():
        for secret in secrets:
            assert secret not in text, f"a secret ({secret[:6]}...) leaked into {name}"


def stored_text(meltano, state_id: str) -> dict:
    """Meltano state and every bronze row's payload, metadata and message, as text."""
    state = meltano.run("state", "get", state_id, check=False)
    rows = []
    for table in bronze_tables(meltano):
        rows += [
            str(r)
            for r in meltano.query(f"SELECT raw_id, raw_data::text, metadata::text, error_message FROM bronze.{table}")
        ]
    return {"meltano state": state.stdout + state.stderr, "bronze rows": "\n".join(rows)}


def bronze_tables(meltano) -> list[str]:
    """The tables holding bronze rows (not the project's own, e.g. ``status_acknowledged``)."""
    return [
        t
        for (t,) in meltano.query(
            "SELECT table_name FROM information_schema.tables t JOIN information_schema.columns c "
            "USING (table_schema, table_name) WHERE table_schema = 'bronze' AND table_type = 'BASE TABLE' "
            "AND column_name = 'raw_id' ORDER BY 1"
        )
    ]


def assert_exact(meltano, tap: ApiTap, fake) -> None:
    """Bronze holds exactly the fake's data: nothing missing, nothing extra, nothing twice."""
    for table, expected in tap.expected(fake).items():
        rows = meltano.query(f"SELECT raw_id, raw_data FROM bronze.{table}")
        ids = [r[0] for r in rows]
        assert len(ids) == len(set(ids)), f"{table}: duplicate rows for one source record"
        assert sorted(ids) == sorted(expected), f"{table}: rows differ from the source (gap or extra)"
        for raw_id, raw_data in rows:
            if expected[raw_id] is not None:
                assert raw_data == expected[raw_id], f"{table} {raw_id}: payload differs from the source"
    for table in bronze_tables(meltano):
        total, distinct = meltano.query(f"SELECT count(*), count(DISTINCT raw_id) FROM bronze.{table}")[0]
        assert total == distinct, f"{table}: {total - distinct} duplicate rows"


def output(result) -> str:
    return result.stdout + result.stderr
