"""``dbt-bronze``: dbt, pointed at the project's PostgreSQL and its dbt project.

Meltano's transformer ``dbt-postgres`` starts this instead of ``dbt`` so the
models build in the same database every other command uses (one rule:
:func:`bronze_loader.pgsettings.connection_settings`, i.e. ``DATABASE_URL``,
else ``PG_*``, else the embedded server and its password file). The
connection goes to dbt as environment variables read by
``transform/profiles.yml``; the password under a ``DBT_ENV_SECRET_`` name,
which dbt scrubs from its logs and error messages. dbt's anonymous usage
events and its version check are off: both would call the internet, which a
scheduled run must not need.

Runs inside the transformer's own virtualenv (dbt-core, dbt-postgres and
this package); every argument goes to dbt unchanged, except that ``source
freshness`` leaves out the bronze tables this database does not hold (see
:func:`absent_sources`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import yaml

from bronze_loader.pgsettings import connection_settings


def project_root(environ: Mapping[str, str]) -> Path:
    """The Meltano project: ``MELTANO_PROJECT_ROOT`` (set by Meltano), else the working directory."""
    return Path(environ.get("MELTANO_PROJECT_ROOT") or Path.cwd())


def dbt_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` plus what ``transform/profiles.yml`` and dbt need to run offline here."""
    root = project_root(environ)
    settings = connection_settings(environ, root / ".env")
    env = dict(environ)
    env.update(
        DBT_PG_HOST=settings["PG_HOST"],
        DBT_PG_PORT=str(settings["PG_PORT"]),
        DBT_PG_USER=settings["PG_USER"],
        DBT_PG_DBNAME=settings["PG_DB"],
        DBT_ENV_SECRET_PG_PASSWORD=settings["PG_PASS"],
    )
    env.setdefault("DBT_PROJECT_DIR", str(root / "transform"))
    env.setdefault("DBT_PROFILES_DIR", str(root / "transform"))
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    env.setdefault("DBT_VERSION_CHECK", "false")
    # Meltano logs dbt's output line by line: colour codes would only clutter it.
    env.setdefault("DBT_USE_COLORS", "false")
    # dbt 1.10 imports click APIs that click deprecates; the warning says nothing to a user.
    env.setdefault("PYTHONWARNINGS", "ignore::DeprecationWarning")
    return env


def declared_sources(project_dir: Path) -> dict[str, tuple[str, str]]:
    """dbt's selector (``source:<source>.<table>``) -> (schema, table) of every declared source table."""
    declared = {}
    for path in sorted((project_dir / "models").rglob("*.yml")):
        for source in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("sources") or []:
            for table in source.get("tables") or []:
                where = (source.get("schema") or source["name"], table.get("identifier") or table["name"])
                declared[f"source:{source['name']}.{table['name']}"] = where
    return declared


def existing_tables(env: Mapping[str, str], schemas: Iterable[str]) -> set[tuple[str, str]] | None:
    """(schema, table) of the tables and views in ``schemas``; None when the database is unreachable.

    psycopg2 is there with dbt-postgres, in the virtualenv this runs in.
    """
    import psycopg2

    try:
        with (
            psycopg2.connect(
                host=env["DBT_PG_HOST"],
                port=env["DBT_PG_PORT"],
                user=env["DBT_PG_USER"],
                dbname=env["DBT_PG_DBNAME"],
                password=env["DBT_ENV_SECRET_PG_PASSWORD"],
                connect_timeout=10,
            ) as conn,
            conn.cursor() as cursor,
        ):
            cursor.execute(
                "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema = ANY(%s)",
                (sorted(set(schemas)),),
            )
            return set(cursor.fetchall())
    except psycopg2.Error:
        return None  # dbt connects next and says what is wrong


def absent_sources(args: Sequence[str], env: Mapping[str, str]) -> list[str]:
    """For ``source freshness``: the selectors of the declared source tables this database lacks.

    Most users load only some sources (docs/using-your-data.md), and dbt reports a
    source whose table does not exist as an error, so freshness would always fail
    for them. A table that is there is checked as configured, stale ones warn or fail.
    """
    if not any(list(args[i : i + 2]) == ["source", "freshness"] for i in range(len(args))):
        return []
    declared = declared_sources(Path(env["DBT_PROJECT_DIR"]))
    existing = existing_tables(env, (schema for schema, _ in declared.values()))
    if existing is None:
        return []
    return [selector for selector, where in declared.items() if where not in existing]


def cli() -> None:
    """Replace this process by the virtualenv's ``dbt`` with the project's connection."""
    dbt = Path(sys.executable).with_name("dbt")
    # dbt's logs and compiled SQL (transform/logs, transform/target) hold row counts and
    # data-derived SQL: readable by the owner only, like everything the project writes.
    os.umask(0o077)
    env = dbt_environment(os.environ)
    args = sys.argv[1:]
    absent = absent_sources(args, env)
    if absent:
        names = ", ".join(selector.removeprefix("source:") for selector in absent)
        print(f"dbt-bronze: source freshness leaves out what this database does not hold: {names}", file=sys.stderr)
        args = [*args, "--exclude", *absent]
    os.execve(dbt, [str(dbt), *args], env)
