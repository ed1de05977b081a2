"""The project's habits: the dependency lock, the lint configuration, the test markers.

- Every installed package, in `.venv` and in each Meltano plugin venv, is pinned by the
  lock file of its venv at the version installed (so `make install` used the lock, and
  the lock misses nothing).
- ruff reads the project's configuration; pre-commit runs the same ruff as `make lint`.
- `make test-fast` leaves out exactly the tests that need PostgreSQL, Meltano or a
  process, and nothing is lost between it and the rest.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib.metadata import distributions
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

BIN = ROOT / ".venv" / "bin"
PLUGIN_VENVS = sorted((ROOT / ".meltano").glob("*/*/venv"))


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lock: Path) -> dict[str, str]:
    """name -> version of each `name==version` line of a constraints file."""
    found = {}
    for line in lock.read_text().splitlines():
        match = re.match(r"([A-Za-z0-9_.-]+)==(\S+)", line)
        if match:
            name = normalized(match[1])
            assert name not in found, f"{lock.name} pins {name} twice"
            found[name] = match[2]
    return found


def installed(venv: Path) -> dict[str, str]:
    """name -> version of every distribution in a venv, less the project's own (editable) ones."""
    site = next(venv.glob("lib/python3*/site-packages"))
    found = {}
    for dist in distributions(path=[str(site)]):
        direct = json.loads(dist.read_text("direct_url.json") or "{}")
        if direct.get("dir_info", {}).get("editable"):
            continue
        found[normalized(dist.metadata["Name"])] = dist.version
    return found


# The installers' own seed in a venv made by `python -m venv`: not a dependency of anything.
SEED = {"setuptools", "wheel"}


@pytest.mark.parametrize(
    "venv, lock",
    [(ROOT / ".venv", ROOT / "constraints.txt")]
    + [(venv, ROOT / "plugins" / "constraints.txt") for venv in PLUGIN_VENVS],
    ids=lambda value: str(value.relative_to(ROOT)),
)
def test_every_installed_package_is_pinned_at_its_installed_version(venv, lock):
    locked = pins(lock)
    unpinned = {name: version for name, version in installed(venv).items() if name not in locked and name not in SEED}
    wrong = {
        name: (version, locked[name])
        for name, version in installed(venv).items()
        if name in locked and locked[name] != version
    }
    assert not unpinned, f"installed but not in {lock.name} (run make lock): {unpinned}"
    assert not wrong, f"installed version differs from {lock.name} (installed, locked): {wrong}"


def test_the_plugin_venvs_exist_for_the_check_above():
    """Meltano installs one venv per plugin with a pip_url; the lock check covers each."""
    plugins = yaml.safe_load((ROOT / "meltano.yml").read_text())["plugins"]
    with_pip_url = {p["name"] for kind in plugins.values() for p in kind if p.get("pip_url")}
    assert {venv.parent.name for venv in PLUGIN_VENVS} >= with_pip_url


def test_pre_commit_runs_the_ruff_that_make_lint_runs():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    rev = next(repo["rev"] for repo in config["repos"] if repo["repo"].endswith("/ruff-pre-commit"))
    pinned = re.search(r"^ruff==(\S+)$", (ROOT / "requirements.txt").read_text(), re.MULTILINE)[1]
    assert rev == f"v{pinned}"
    assert pins(ROOT / "constraints.txt")["ruff"] == pinned


def test_ruff_reads_the_projects_configuration():
    """A file of the project is checked with its rules and its 120 columns."""
    source = "import os\n\n" + f"WIDE = {'x' * 110!r}\n" + f"WIDER = {'x' * 120!r}\n"
    done = subprocess.run(
        [
            str(BIN / "ruff"),
            "check",
            "--no-cache",
            "--output-format=concise",
            "--stdin-filename",
            "scripts/probe.py",
            "-",
        ],
        input=source,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert re.findall(r":(\d+):\d+: ([A-Z]+\d+)", done.stdout) == [("1", "F401"), ("4", "E501")], done.stdout


def test_ruff_leaves_out_the_venvs_and_the_samples():
    done = subprocess.run([str(BIN / "ruff"), "check", "--show-files", "."], cwd=ROOT, capture_output=True, text=True)
    files = [Path(line).relative_to(ROOT).parts[0] for line in done.stdout.splitlines() if line.startswith("/")]
    assert "taps" in files and "tests" in files
    assert not {".venv", ".meltano", ".pgdata", "samples"} & set(files)


def collected(*args: str) -> list[str]:
    """Test ids pytest collects with these arguments (a separate pytest, as `make` runs it)."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return [line for line in done.stdout.splitlines() if "::" in line]


def test_fast_tests_leave_out_postgres_meltano_and_processes_and_lose_nothing():
    files = [
        "tests/test_envelope.py",
        "tests/test_dbctl.py",
        "tests/test_tap_toggl.py",
        "tests/test_e2e_manual.py",
        "tests/fakes/test_apple_health_export_fake.py",
    ]
    everything = collected(*files)
    fast = collected("-m", "not slow", *files)
    slow = collected("-m", "slow", *files)
    assert sorted(fast + slow) == sorted(everything) and not set(fast) & set(slow)
    # In-process unit tests stay fast.
    assert {t for t in everything if t.startswith("tests/test_envelope.py")} <= set(fast)
    assert "tests/test_dbctl.py::test_defaults_mean_embedded" in fast  # settings only
    # The meltano fixture; a tap process through a helper of the module; a server started
    # by dbctl.up; marked by hand after measuring.
    assert {t for t in everything if t.startswith("tests/test_e2e_manual.py")} <= set(slow)
    assert "tests/test_tap_toggl.py::test_backfill_then_since" in slow
    assert "tests/test_dbctl.py::test_embedded_server_asks_every_connection_for_the_password" in slow
    assert "tests/fakes/test_apple_health_export_fake.py::test_memory_stays_flat_as_the_export_grows" in slow
    assert any(t.startswith("tests/test_tap_toggl.py::TestTapToggl::") for t in slow)


def test_make_test_selects_no_marker_and_test_fast_only_leaves_out_slow():
    """`make test` runs everything: no -m in its pytest line nor in pytest.ini's addopts."""
    lines = subprocess.run(
        ["make", "-n", "--no-print-directory", "test", "test-fast"], cwd=ROOT, capture_output=True, text=True
    ).stdout.splitlines()
    runs = [line for line in lines if "-m pytest" in line]
    assert len(runs) == 2
    assert " -m " not in runs[0].replace("-m pytest", "")
    assert '-m "not slow"' in runs[1]
    assert "-m" not in re.search(r"^addopts\s*=(.*)$", (ROOT / "pytest.ini").read_text(), re.MULTILINE)[1].split()
