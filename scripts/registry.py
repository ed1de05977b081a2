"""The registry of sources: sources.yml, read once, as typed records.

Everything outside a tap's folder that needs to know which sources exist
(`make install` and `make about`, the demo, `make status` / `metrics` /
`run-all` through scripts/pipelines.py, the README and schedule tests) asks
this module, so adding a source is its tap folder, meltano.yml, its entry in
sources.yml and its fake or sample; tests/test_registry.py holds sources.yml
and meltano.yml in agreement.

    .venv/bin/python scripts/registry.py executables   # one tap executable a line (make about)
    .venv/bin/python scripts/registry.py pip-args      # -e ./taps/tap-x ... (make install)
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES_YML = "sources.yml"
FIELDS = {
    "source",
    "sources",
    "label",
    "package",
    "streams",
    "job",
    "schedule",
    "fresh_hours",
    "required",
    "paths",
    "demo",
}
DEMO_FIELDS = {"fake", "sample", "about", "env", "command"}
#: ``{days_ago_N}`` in a demo setting: the date N days before today (ISO), so a
#: fake serving N+1 days up to today is read from its first day.
DAYS_AGO = re.compile(r"\{days_ago_(\d+)\}")


class RegistryError(ValueError):
    """sources.yml is malformed: the message names the pipeline and the field."""


@dataclass(frozen=True)
class Schedule:
    name: str
    interval: str


@dataclass(frozen=True)
class Demo:
    """How `make demo` feeds a pipeline: a fake API of tests/fakes/serve.py, or a bundled sample."""

    about: str
    fake: str | None = None
    sample: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    #: A command the demo runs before loading (e.g. posting the sample to a local
    #: collector); ``{python}`` is the project's Python, ``{root}`` the project folder.
    command: tuple[str, ...] = ()

    def feed_command(self, root: Path, python: str) -> list[str]:
        """``command`` with its placeholders filled in (empty: nothing to run)."""
        return [part.replace("{python}", python).replace("{root}", str(root)) for part in self.command]

    def settings(
        self, root: Path, url: str | None = None, ids: list[str] | None = None, today: dt.date | None = None
    ) -> dict[str, str]:
        """The environment pointing the tap at its demo feed, placeholders filled in.

        ``{url}``: the fake's base URL; ``{ids_json}``: the ids the fake announced
        (e.g. database ids) as a JSON list; ``{root}``: the project folder;
        ``{days_ago_N}``: today minus N days.
        """
        today = today or dt.date.today()
        values = {"url": url or "", "ids_json": json.dumps(ids or []), "root": str(root)}
        out = {}
        for name, template in self.env.items():
            text = DAYS_AGO.sub(lambda m: (today - dt.timedelta(days=int(m[1]))).isoformat(), template)
            out[name] = re.sub(r"\{(url|ids_json|root)\}", lambda m: values[m[1]], text)
        return out


@dataclass(frozen=True)
class Pipeline:
    """One extractor of meltano.yml run into the loader (see sources.yml's header for the fields)."""

    name: str
    source: str
    label: str
    package: str
    job: str
    schedule: Schedule
    fresh_hours: float
    demo: Demo
    streams: str | None = None
    required: tuple[tuple[str, ...], ...] = ()
    paths: frozenset[str] = frozenset()
    #: Every source whose tables it writes, when one pipeline serves several
    #: (the collector's spool holds Overland, OwnTracks, ...); else ``(source,)``.
    sources: tuple[str, ...] = ()

    @property
    def executable(self) -> str:
        """The console script of its package (``taps/tap-x`` -> ``tap-x``)."""
        return Path(self.package).name

    def writes(self, table: str) -> bool:
        """Whether bronze table ``<source>__<stream>`` is this pipeline's (its source, its stream prefix)."""
        source, _, stream = table.partition("__")
        return source in (self.sources or (self.source,)) and stream.startswith(self.streams or "")


def load(root: Path = ROOT) -> list[Pipeline]:
    """Every pipeline of ``root``/sources.yml, in the file's order (the order the demo runs them)."""
    import yaml

    path = root / SOURCES_YML
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = data.get("pipelines")
    if not isinstance(entries, dict) or not entries:
        raise RegistryError(f"{path}: no `pipelines:` mapping")
    return [_pipeline(name, entry or {}) for name, entry in entries.items()]


def _pipeline(name: str, entry: dict) -> Pipeline:
    unknown = set(entry) - FIELDS
    missing = {"source", "label", "package", "job", "schedule", "fresh_hours", "demo"} - set(entry)
    if unknown or missing:
        raise RegistryError(
            f"sources.yml: pipeline {name}: "
            + "; ".join(
                filter(
                    None,
                    [unknown and f"unknown fields {sorted(unknown)}", missing and f"missing fields {sorted(missing)}"],
                )
            )
        )
    demo = dict(entry["demo"] or {})
    if set(demo) - DEMO_FIELDS or ("fake" in demo) == ("sample" in demo) or "about" not in demo:
        raise RegistryError(
            f"sources.yml: pipeline {name}: demo needs `about` and either `fake` or `sample` "
            f"(fields: {sorted(DEMO_FIELDS)})"
        )
    required = tuple(tuple(group) for group in entry.get("required") or ())
    paths = frozenset(entry.get("paths") or ())
    if not paths <= {setting for group in required for setting in group}:
        raise RegistryError(f"sources.yml: pipeline {name}: paths {sorted(paths)} must be required settings")
    return Pipeline(
        name=name,
        source=entry["source"],
        label=entry["label"],
        package=entry["package"],
        job=entry["job"],
        schedule=Schedule(**entry["schedule"]),
        fresh_hours=float(entry["fresh_hours"]),
        demo=Demo(
            about=demo["about"],
            fake=demo.get("fake"),
            sample=demo.get("sample"),
            env={k: str(v) for k, v in (demo.get("env") or {}).items()},
            command=tuple(str(part) for part in demo.get("command") or ()),
        ),
        streams=entry.get("streams"),
        required=required,
        paths=paths,
        sources=tuple(entry.get("sources") or ()),
    )


@cache
def pipelines(root: Path = ROOT) -> tuple[Pipeline, ...]:
    """The registry of ``root`` (read once per process)."""
    return tuple(load(root))


def by_name(root: Path = ROOT) -> dict[str, Pipeline]:
    return {p.name: p for p in pipelines(root)}


def pipeline_of_table(table: str, root: Path = ROOT) -> Pipeline | None:
    """The pipeline writing ``table``: of its source, the one whose stream prefix is longest."""
    matches = [p for p in pipelines(root) if p.writes(table)]
    return max(matches, key=lambda p: len(p.streams or ""), default=None)


def packages(root: Path = ROOT) -> list[str]:
    """The taps' package folders, each once, in the registry's order."""
    return list(dict.fromkeys(p.package for p in pipelines(root)))


def executables(root: Path = ROOT) -> list[str]:
    """One console script per package (what `make about` and the README tests run)."""
    return [Path(package).name for package in packages(root)]


def main(argv: list[str]) -> int:
    commands = {"executables": lambda: executables(), "pip-args": lambda: [f"-e ./{package}" for package in packages()]}
    if len(argv) != 1 or argv[0] not in commands:
        print(f"usage: registry.py {{{','.join(commands)}}}", file=sys.stderr)
        return 2
    print("\n".join(commands[argv[0]]()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
