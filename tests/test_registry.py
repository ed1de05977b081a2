"""sources.yml, the registry of sources: in agreement with meltano.yml, and the only list of them.

Adding a source touches four places: its tap folder (taps/tap-x), its plugin,
job and schedule in meltano.yml, its entry in sources.yml, and its fake or
sample (tests/fakes/, samples/) with the source's own tests. Everything else
that needs to know the sources reads sources.yml (scripts/registry.py):
`make install` / `make about`, the demo, `make status` / `metrics` /
`run-all` (scripts/pipelines.py), the README and schedule tests. Three tests
hold that:

- meltano.yml and sources.yml agree (plugins, jobs, schedules, the `all` job);
- a copy of the project with one new source added in those four places only
  has it picked up by every consumer (a real singer-sdk tap on bronze_core);
- no other file names the sources: product files (scripts/, Makefile,
  requirements.txt, sql/, ...) name none, and no test outside a source's own
  names all of them (such a list is the registry's job).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import registry  # noqa: E402

LOADER = "target-postgres"
PYTHON = ROOT / ".venv" / "bin" / "python"


# --- meltano.yml and sources.yml agree ---------------------------------------------------------


def agreement_problems(root: Path) -> list[str]:
    """Every way ``root``'s meltano.yml and sources.yml disagree (empty: they agree)."""
    meltano = yaml.safe_load((root / "meltano.yml").read_text(encoding="utf-8"))
    pipelines = {p.name: p for p in registry.load(root)}
    extractors = {e["name"]: e for e in meltano["plugins"]["extractors"]}
    jobs = {j["name"]: j["tasks"] for j in meltano.get("jobs") or []}
    schedules = {s["name"]: s for s in meltano.get("schedules") or []}
    problems = []

    def package(name: str) -> str | None:
        """The local tap package an extractor installs, itself or through ``inherit_from``."""
        plugin = extractors.get(name) or {}
        taps = [
            word.removeprefix("./") for word in str(plugin.get("pip_url", "")).split() if word.startswith("./taps/tap-")
        ]
        if taps:
            return taps[-1]
        return package(plugin["inherit_from"]) if plugin.get("inherit_from") in extractors else None

    local = {name for name in extractors if package(name)}
    problems += [f"extractor {n} (a tap of taps/) is not in sources.yml" for n in sorted(local - set(pipelines))]
    problems += [f"pipeline {n} of sources.yml is no extractor of meltano.yml" for n in sorted(set(pipelines) - local)]
    for name, p in pipelines.items():
        if name in local and package(name) != p.package:
            problems.append(f"{name}: package {p.package} in sources.yml, {package(name)} in meltano.yml")
        if jobs.get(p.job) != [f"{name} {LOADER}"]:
            problems.append(f"{name}: job {p.job} should be exactly [{name} {LOADER}], is {jobs.get(p.job)}")
        schedule = schedules.get(p.schedule.name)
        if not schedule or (schedule.get("interval"), schedule.get("job")) != (p.schedule.interval, p.job):
            problems.append(
                f"{name}: schedule {p.schedule.name} should run job {p.job} at "
                f"{p.schedule.interval!r}, meltano.yml has {schedule}"
            )
        known = {s["name"] for s in _settings(extractors, name)}
        unknown = {s for group in p.required for s in group} - known
        if unknown:
            problems.append(f"{name}: required settings {sorted(unknown)} are no settings in meltano.yml")
    if jobs.get("all") != [f"{name} {LOADER}" for name in pipelines]:
        problems.append(f"job all should run every pipeline in sources.yml's order, is {jobs.get('all')}")
    return problems


def _settings(extractors: dict, name: str) -> list[dict]:
    plugin = extractors.get(name) or {}
    parent = plugin.get("inherit_from")
    return list(plugin.get("settings") or []) + (_settings(extractors, parent) if parent in extractors else [])


def demo_problems(root: Path) -> list[str]:
    """What is wrong with the demo entries: unknown fakes, missing samples, settings of another tap."""
    from tests.fakes.serve import FAKES

    problems = []
    for p in registry.load(root):
        if p.demo.fake and p.demo.fake not in FAKES:
            problems.append(f"{p.name}: demo fake {p.demo.fake} is not served by tests/fakes/serve.py")
        if p.demo.sample and not (root / p.demo.sample).exists():
            problems.append(f"{p.name}: demo sample {p.demo.sample} does not exist")
        prefix = p.name.upper().replace("-", "_") + "_"
        problems += [
            f"{p.name}: demo setting {key} is not the pipeline's ({prefix}*)"
            for key in p.demo.env
            if not key.startswith(prefix)
        ]
    return problems


def test_meltano_yml_and_sources_yml_agree():
    assert agreement_problems(ROOT) == []


def test_every_demo_entry_names_a_fake_or_sample_that_exists():
    assert demo_problems(ROOT) == []


def test_agreement_finds_a_disagreement(tmp_path):
    """The agreement check can fail: a schedule moved in meltano.yml only, a pipeline dropped."""
    shutil.copy(ROOT / "meltano.yml", tmp_path / "meltano.yml")
    text = (ROOT / "sources.yml").read_text(encoding="utf-8")
    first = registry.load(ROOT)[0]
    moved = text.replace(f'interval: "{first.schedule.interval}"', 'interval: "59 23 * * *"', 1)
    (tmp_path / "sources.yml").write_text(moved, encoding="utf-8")
    assert any(first.schedule.name in problem for problem in agreement_problems(tmp_path))
    dropped = re.sub(rf"\n  {re.escape(first.name)}:\n(    .*\n)+", "\n", text, count=1)
    (tmp_path / "sources.yml").write_text(dropped, encoding="utf-8")
    assert f"extractor {first.name} (a tap of taps/) is not in sources.yml" in agreement_problems(tmp_path)


def test_placeholders_of_demo_settings():
    demo = registry.Demo(
        about="x",
        fake="f",
        env={"A": "{url}/v1", "B": "{ids_json}", "C": "{root}/samples", "D": "{days_ago_20}", "E": '[{"name": "a"}]'},
    )
    import datetime as dt

    got = demo.settings(Path("/p"), url="http://127.0.0.1:9", ids=["x", "y"], today=dt.date(2026, 3, 21))
    assert got == {
        "A": "http://127.0.0.1:9/v1",
        "B": '["x", "y"]',
        "C": "/p/samples",
        "D": "2026-03-01",
        "E": '[{"name": "a"}]',
    }


def test_a_malformed_entry_is_refused_naming_it(tmp_path):
    text = (ROOT / "sources.yml").read_text(encoding="utf-8").replace("fresh_hours:", "fresh_hour:", 1)
    (tmp_path / "sources.yml").write_text(text, encoding="utf-8")
    with pytest.raises(registry.RegistryError, match=rf"pipeline {registry.load(ROOT)[0].name}: .*fresh_hour"):
        registry.load(tmp_path)


# --- a new source needs only the four places ---------------------------------------------------

EXAMPLE_TAP = '''
"""tap-example: readings from one JSON Lines file (a new source, as tests/test_registry.py adds one)."""

import json
from pathlib import Path

from singer_sdk import typing as th

from bronze_core.streams import BronzeStream
from bronze_core.tap import BronzeTap


class Readings(BronzeStream):
    name = "example_lab__readings"
    source = "example_lab"
    replication_key = None

    def payload_id(self, payload, lineage):
        return str(payload["id"])

    def get_records(self, context):
        path = Path(self.config["data_file"])
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            yield self.to_bronze(json.loads(line), {"file": path.name, "line": number})


class TapExample(BronzeTap):
    name = "tap-example"
    package_name = "tap-example"
    config_jsonschema = th.PropertiesList(
        th.Property("data_file", th.StringType, required=True, description="The readings, JSON Lines."),
    ).to_dict()
    stream_types = (Readings,)
'''

EXAMPLE_ENTRY = """
  tap-example:
    source: example_lab
    label: Example readings
    package: taps/tap-example
    job: example
    schedule: {name: example-twice-daily, interval: "55 */12 * * *"}
    fresh_hours: 24
    required: [[data_file]]
    paths: [data_file]
    demo:
      sample: samples/example/readings.jsonl
      about: the bundled example readings
      env:
        TAP_EXAMPLE_DATA_FILE: "{root}/samples/example/readings.jsonl"
"""


def project_files() -> list[str]:
    """The project's files as git knows them (tracked, and new ones not ignored)."""
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return sorted(name for name in set(out.split("\0")) if name and (ROOT / name).is_file())


def add_example_source(copy: Path) -> None:
    """The four places, and nothing else: tap folder, meltano.yml, sources.yml, a sample."""
    tap = copy / "taps" / "tap-example"
    (tap / "tap_example").mkdir(parents=True)
    (tap / "tap_example" / "__init__.py").write_text("", encoding="utf-8")
    (tap / "tap_example" / "tap.py").write_text(EXAMPLE_TAP.lstrip(), encoding="utf-8")
    (tap / "pyproject.toml").write_text(
        textwrap.dedent("""
        [project]
        name = "tap-example"
        version = "0.1.0"
        dependencies = ["bronze-core", "singer-sdk==0.54.9"]

        [project.scripts]
        tap-example = "tap_example.tap:TapExample.cli"
        """),
        encoding="utf-8",
    )

    meltano = yaml.safe_load((copy / "meltano.yml").read_text(encoding="utf-8"))
    meltano["plugins"]["extractors"].append(
        {
            "name": "tap-example",
            "namespace": "tap_example",
            "pip_url": "-e ./taps/bronze-core -e ./taps/tap-example",
            "executable": "tap-example",
            "capabilities": ["catalog", "discover", "about"],
            "settings": [{"name": "data_file", "kind": "string", "description": "The readings, JSON Lines."}],
        }
    )
    next(job for job in meltano["jobs"] if job["name"] == "all")["tasks"].append(f"tap-example {LOADER}")
    meltano["jobs"].append({"name": "example", "tasks": [f"tap-example {LOADER}"]})
    meltano["schedules"].append({"name": "example-twice-daily", "interval": "55 */12 * * *", "job": "example"})
    (copy / "meltano.yml").write_text(yaml.safe_dump(meltano, sort_keys=False), encoding="utf-8")

    (copy / "samples" / "example").mkdir(parents=True)
    (copy / "samples" / "example" / "readings.jsonl").write_text(
        '{"id": 1, "at": "2026-01-01T08:00:00Z", "value": 3.5}\n'
        '{"id": 2, "at": "2026-01-02T08:00:00Z", "value": 4.0}\n',
        encoding="utf-8",
    )


def shim_venv(copy: Path) -> None:
    """copy/.venv/bin: the project's real executables, plus tap-example run from the copy's source.

    (Installing the example tap into a virtualenv of its own would take minutes;
    the shim runs the same real tap process.)
    """
    bin_dir = copy / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    real = ROOT / ".venv" / "bin"
    for name in ["python", "meltano", *registry.executables()]:
        _script(bin_dir / name, f'exec "{real / name}" "$@"')
    start = (
        f"import sys; sys.path.insert(0, {str(copy / 'taps' / 'tap-example')!r}); "
        "from tap_example.tap import TapExample; TapExample.cli()"
    )
    _script(bin_dir / "tap-example", f'exec "{real / "python"}" -c "{start}" "$@"')
    (copy / ".venv" / ".installed").touch()


def _script(path: Path, line: str) -> None:
    path.write_text(f"#!/bin/sh\n{line}\n", encoding="utf-8")
    path.chmod(0o755)


CONSUMERS = """
import json, sys
sys.path.insert(0, "scripts")
import demo, pipelines, registry, status
chosen = list(registry.pipelines())
print(json.dumps({
    "pipelines": pipelines.pipelines(),
    "required": pipelines.REQUIRED.get("tap-example"),
    "missing": pipelines.missing_settings("tap-example", {"data_file": "/no/such/file"}),
    "table": pipelines.pipeline_of_table("example_lab__readings"),
    "hours": status.expected_hours("tap-example"),
    "plan": demo.plan(chosen),
    "env": {k: v for k, v in demo.demo_env(chosen, {}).items() if k.startswith("TAP_EXAMPLE_")},
    "demo": demo.describe(chosen, {f: ("http://fake", []) for f in demo.fakes_of(chosen)}),
    "executables": registry.executables(),
}))
"""


def test_a_new_source_needs_only_its_four_places(tmp_path):
    copy = tmp_path / "project"
    for name in project_files():
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, copy / name)
    add_example_source(copy)
    shim_venv(copy)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MELTANO_", "TAP_"))}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(args, cwd=copy, env=env, capture_output=True, text=True, timeout=600)

    # The agreement tests see the tap missing from sources.yml (four places minus one)...
    agreement = (
        "tests/test_registry.py::test_meltano_yml_and_sources_yml_agree",
        "tests/test_registry.py::test_every_demo_entry_names_a_fake_or_sample_that_exists",
    )
    without = run(str(PYTHON), "-m", "pytest", "-q", "-p", "no:cacheprovider", *agreement)
    assert without.returncode == 1 and "tap-example" in without.stdout, without.stdout[-3000:]
    with (copy / "sources.yml").open("a", encoding="utf-8") as registry_file:
        registry_file.write(EXAMPLE_ENTRY)

    # ... and with its entry, they, the schedule tests and the registry's consumers take it in.
    tests = run(
        str(PYTHON),
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        *agreement,
        "tests/test_schedules.py",
        "tests/test_readme.py::test_ci_runs_the_readme_test_command",
    )
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
    seen = json.loads(run(str(PYTHON), "-c", CONSUMERS).stdout)
    assert seen["pipelines"][-1] == "tap-example" and "tap-example" in seen["executables"]
    assert seen["required"] == [["data_file"]]
    assert seen["missing"] == ["data_file /no/such/file does not exist"]
    assert seen["table"] == "tap-example"  # not the guess from its source (tap-example-lab)
    assert seen["hours"] == 24  # not status.py's fallback (48)
    assert seen["plan"][-2:] == ["tap-example", LOADER]
    assert seen["env"] == {"TAP_EXAMPLE_DATA_FILE": f"{copy}/samples/example/readings.jsonl"}
    assert any(line.split()[:1] == ["tap-example"] and "the bundled example readings" in line for line in seen["demo"])

    # The real tap process writes a table the registry gives to its pipeline; `make about` lists it.
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"data_file": seen["env"]["TAP_EXAMPLE_DATA_FILE"]}), encoding="utf-8")
    synced = run(str(copy / ".venv/bin/tap-example"), "--config", str(config))
    records = [json.loads(line) for line in synced.stdout.splitlines() if '"RECORD"' in line]
    assert synced.returncode == 0 and len(records) == 2, synced.stderr[-3000:]
    assert {r["stream"] for r in records} == {"example_lab__readings"}
    about = run("make", "-o", ".venv/.installed", "about")
    assert about.returncode == 0, about.stderr[-3000:]
    assert "| data_file | True |" in about.stdout.split("# `tap-example`", 1)[-1], about.stdout[-3000:]
    assert about.stdout.count("| Setting |") == len(registry.executables()) + 1


# --- nothing else lists the sources ------------------------------------------------------------

#: Places that may name sources: the four places (tap folders, meltano.yml, sources.yml, fakes and
#: samples), documentation, and:
#: - .env.template: the commented configuration reference, one section per source (documentation);
#: - .gitignore: ignores the folder a source reads by default inside the project (personal data);
#: - bench/: the benchmark measures one file tap's path on purpose (a test of that source);
#: - constraints.txt, plugins/constraints.txt: generated by `make lock`, which says which package
#:   needs each pin (a source with dependencies of its own re-runs it: generated, not edited);
#: - collector/, schemas/events/, docker-compose.yml: the pushed sources' receiving service and
#:   its event contracts (tap-events reads what the collector spools: the source's other half);
#: - transform/: the dbt models above bronze, which type what they know of each source (a new
#:   source lands in bronze without one; a model for it is a later, optional step).
MAY_NAME_SOURCES = (
    "taps/",
    "tests/fakes/",
    "samples/",
    "docs/",
    "bench/",
    "meltano.yml",
    "sources.yml",
    ".env.template",
    ".gitignore",
    "constraints.txt",
    "plugins/constraints.txt",
    "collector/",
    "schemas/events/",
    "docker-compose.yml",
    "transform/",
)
#: Tests that belong to one source (its end-to-end and tap tests) may of course name it; any
#: other test may name the sources it exercises, but not all of them: the list of every source
#: is sources.yml's. Allowed to: the reliability battery's per-tap cases (tests/reliability/
#: cases.py), where each entry says how to drive one source's fake, i.e. its fake's other half.
MAY_LIST_SOURCES = ("tests/reliability/cases.py",)


def source_words(pipelines) -> dict[str, re.Pattern]:
    """Per source, a pattern for the ways files name it: source, pipeline, package, job, schedule."""
    words: dict[str, set[str]] = {}
    for p in pipelines:
        words.setdefault(p.source, set()).update(
            {p.source, p.source.replace("_", "-"), p.name, p.executable, p.job, p.schedule.name}
        )
    return {
        source: re.compile(
            "|".join(rf"(?<![a-z0-9]){re.escape(w)}" for w in sorted(names, key=len)[::-1]), re.IGNORECASE
        )
        for source, names in words.items()
    }


def naming_problems(root: Path, files: list[str], pipelines) -> list[str]:
    patterns = source_words(pipelines)
    own = {slug for p in pipelines for slug in (p.source, p.executable.removeprefix("tap-").replace("-", "_"))}
    problems = []
    for name in files:
        if name.startswith(MAY_NAME_SOURCES) or name.endswith(".md"):
            continue
        text = (root / name).read_text(encoding="utf-8", errors="replace")
        named = sorted(source for source, pattern in patterns.items() if pattern.search(text))
        if not name.startswith("tests/"):
            problems += [f"{name} names {', '.join(named)}"] if named else []
        elif any(re.fullmatch(rf"tests/test_(e2e|tap)_{slug}(_[a-z_]+)?\.py", name) for slug in own):
            continue  # the source's own tests
        elif set(named) == set(patterns) and name not in MAY_LIST_SOURCES:
            problems.append(f"{name} names every source: read sources.yml (scripts/registry.py) instead")
    return problems


def test_no_file_outside_the_four_places_lists_the_sources():
    assert naming_problems(ROOT, project_files(), registry.pipelines()) == []


def test_the_naming_check_finds_a_list(tmp_path):
    """It can fail: a script with one source in it, a test listing every pipeline."""
    pipelines = registry.pipelines()
    (tmp_path / "scripts").mkdir()
    (tmp_path / "tests").mkdir()
    (tmp_path / "scripts" / "x.py").write_text(f"SKIP = {{{pipelines[-1].name!r}}}\n", encoding="utf-8")
    (tmp_path / "tests" / "test_x.py").write_text(repr([p.name for p in pipelines]), encoding="utf-8")
    (tmp_path / "tests" / "test_y.py").write_text(repr([p.name for p in pipelines[:2]]), encoding="utf-8")
    assert naming_problems(tmp_path, ["scripts/x.py", "tests/test_x.py", "tests/test_y.py"], pipelines) == [
        f"scripts/x.py names {pipelines[-1].source}",
        "tests/test_x.py names every source: read sources.yml (scripts/registry.py) instead",
    ]
