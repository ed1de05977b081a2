"""The README must stay true: its settings table is what the tap itself says."""

import subprocess
import sys

import pytest
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import registry  # noqa: E402


def settings_table(executable: str) -> str:
    about = subprocess.run([str(ROOT / ".venv/bin" / executable), "--about", "--format=markdown"],
                           capture_output=True, text=True, check=True).stdout
    start = about.index("| Setting |")
    return about[start:].split("\n\n", 1)[0].strip()


@pytest.mark.parametrize("tap", registry.executables())  # every tap package of sources.yml
def test_readme_lists_every_setting(tap):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert settings_table(tap) in readme, f"README's {tap} settings table is stale: paste `make about` output"


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci/run").read_text()
    assert "make test" in (ROOT / "README.md").read_text()
