"""How the shared code is cut: file taps carry no HTTP code, the loader reuses the envelope.

Each check runs in a fresh interpreter, so what is imported is what the tap's
own process would import.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LOADER_PYTHON = ROOT / ".meltano" / "loaders" / "target-postgres" / "venv" / "bin" / "python"


def imported_after(code: str, python: str | Path = sys.executable) -> set[str]:
    """The modules a fresh interpreter holds after running ``code``."""
    out = subprocess.run(
        [str(python), "-c", f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    return set(out.split())


@pytest.mark.parametrize("tap", ["tap_manual.tap", "tap_wearable_csv.tap", "tap_apple_health.tap"])
def test_a_file_tap_imports_no_http_code(tap):
    modules = imported_after(f"import {tap}")
    assert "bronze_core.tap" in modules and "bronze_core.pacing" in modules
    assert "bronze_core.http" not in modules and "bronze_core.paging" not in modules


def test_core_file_modules_stay_small():
    """One concern per module: none of the file readers grows past ~350 lines again."""
    sizes = {
        path.name: len(path.read_text(encoding="utf-8").splitlines())
        for path in (ROOT / "taps" / "bronze-core" / "bronze_core" / "files").glob("*.py")
    }
    assert len(sizes) >= 6 and max(sizes.values()) <= 350, sizes


def test_the_loader_copies_the_envelope_columns_and_key_that_taps_build():
    """The loader's COPY columns and conflict key are the envelope's own, in the table's order."""
    if not LOADER_PYTHON.exists():
        pytest.skip("run `make install` first (the loader's virtualenv)")
    out = subprocess.run(
        [
            str(LOADER_PYTHON),
            "-c",
            "import bronze_loader.loader as loader, bronze_core.envelope as envelope\n"
            "print(loader.BRONZE_COLUMNS is envelope.BRONZE_COLUMNS, loader.BRONZE_KEY is envelope.BRONZE_KEY)\n"
            "print(','.join(envelope.BRONZE_COLUMNS))",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout.split()
    assert out[:2] == ["True", "True"]
    assert out[2] == ("raw_id,raw_hash,source,raw_data,source_timestamp,validation_status,error_message,metadata")
