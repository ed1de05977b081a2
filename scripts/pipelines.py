"""The project's pipelines: which ones exist, which are configured, which tables each writes.

A pipeline is one extractor run into target-postgres (the tasks of the `all`
job in meltano.yml); Meltano names its state and its runs
``<environment>:<tap>-to-target-postgres``. Shared by `make status`,
`make metrics` and `make run-all` (scripts/run_all.py).

"Configured" means the settings a run cannot do without are set, as Meltano
resolves them (shell, `.env`, meltano.yml, the active environment), and the
files or folders they name exist. Anything else would fail at once, so
`make run-all` skips it and `make status` does not call it `never`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import registry  # noqa: E402

LOADER = "target-postgres"

#: Settings each pipeline cannot run without (sources.yml `required`): every
#: group needs one of its settings. These mirror the taps' own ``required=True``
#: settings (checked by tests/test_status.py) plus what a tap checks itself
#: (a token file or tokens, the file taps' paths, which have defaults in meltano.yml but
#: may not exist).
REQUIRED: dict[str, tuple[tuple[str, ...], ...]] = {p.name: p.required for p in registry.pipelines()}
#: Settings that name a file or folder (sources.yml `paths`): set is not enough, it must exist.
PATH_SETTINGS: dict[str, frozenset[str]] = {p.name: p.paths for p in registry.pipelines()}


def environment() -> str:
    """The Meltano environment in use: ``MELTANO_ENVIRONMENT``, else meltano.yml's default."""
    return os.environ.get("MELTANO_ENVIRONMENT") or _meltano_yml().get("default_environment") or "dev"


def state_id(tap: str, env: str | None = None) -> str:
    """Meltano's state id and runs-table ``job_name`` of a pipeline."""
    return f"{env or environment()}:{tap}-to-{LOADER}"


def pipeline_of_table(table: str) -> str:
    """The pipeline that writes bronze table ``table``: by its source and stream prefix in sources.yml.

    A table of a source the registry does not know (one dropped from it) is
    given to ``tap-<source>``, so it is still listed.
    """
    pipeline = registry.pipeline_of_table(table)
    return pipeline.name if pipeline else "tap-" + table.partition("__")[0].replace("_", "-")


def pipelines() -> list[str]:
    """Every extractor the `all` job runs into the loader (else every extractor), in order."""
    data = _meltano_yml()
    for job in data.get("jobs") or []:
        if job.get("name") == "all":
            return [task.split()[0] for task in job.get("tasks", []) if task.split()[1:2] == [LOADER]]
    return [p["name"] for p in (data.get("plugins") or {}).get("extractors", [])]


def missing_settings(tap: str, config: dict) -> list[str]:
    """What keeps ``tap`` from running with ``config``: unset settings, paths that do not exist."""
    missing = []
    for group in REQUIRED.get(tap, ()):
        present = [name for name in group if config.get(name) not in (None, "", [], {})]
        if not present:
            missing.append(" or ".join(group) + " not set")
            continue
        for name in present:
            if name in PATH_SETTINGS.get(tap, ()) and not Path(str(config[name])).expanduser().exists():
                missing.append(f"{name} {config[name]} does not exist")
    return missing


def configuration() -> dict[str, list[str]]:
    """Per pipeline, what is missing (an empty list: configured), as Meltano resolves settings."""
    from meltano.core.plugin import PluginType
    from meltano.core.plugin.settings_service import PluginSettingsService

    project = meltano_project()
    out = {}
    for tap in pipelines():
        plugin = project.plugins.find_plugin(tap, plugin_type=PluginType.EXTRACTORS)
        config = PluginSettingsService(project, plugin).as_dict(extras=False, process=True)
        out[tap] = missing_settings(tap, config)
    return out


def meltano_project():
    """Meltano's own view of the project, in the active environment (its log lines kept quiet)."""
    import logging

    import structlog
    from meltano.core.project import Project

    if not structlog.is_configured():  # unconfigured structlog prints Meltano's debug lines to stdout
        structlog.configure(
            wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
            logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        )
    project = Project.find(ROOT)
    project.activate_environment(environment())
    return project


def _meltano_yml() -> dict:
    import yaml

    return yaml.safe_load((ROOT / "meltano.yml").read_text(encoding="utf-8")) or {}
