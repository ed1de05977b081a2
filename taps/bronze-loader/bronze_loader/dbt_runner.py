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
this package); every argument goes to dbt unchanged.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

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


def cli() -> None:
    """Replace this process by the virtualenv's ``dbt`` with the project's connection."""
    dbt = Path(sys.executable).with_name("dbt")
    # dbt's logs and compiled SQL (transform/logs, transform/target) hold row counts and
    # data-derived SQL: readable by the owner only, like everything the project writes.
    os.umask(0o077)
    os.execve(dbt, [str(dbt), *sys.argv[1:]], dbt_environment(os.environ))
