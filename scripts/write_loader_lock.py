"""Write plugins/loaders/target-postgres--meltanolabs.lock from the target's own --about.

Meltano needs a lock file to install a plugin without the Meltano Hub (which is
not reachable everywhere). Regenerate it after changing the pinned version:

    python scripts/write_loader_lock.py path/to/venv/bin/target-postgres
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

PIN = "meltanolabs-target-postgres==0.8.1"
LOCK = Path(__file__).resolve().parent.parent / "plugins/loaders/target-postgres--meltanolabs.lock"
SECRET = re.compile(r"password|private_key", re.IGNORECASE)
KINDS = {
    "string": "string",
    "integer": "integer",
    "boolean": "boolean",
    "object": "object",
    "array": "array",
    "number": "decimal",
}


def setting(name: str, spec: dict) -> dict:
    """One Meltano setting from one JSON Schema property of the about output."""
    types = (
        [t for t in (spec.get("type") or ["string"]) if t != "null"]
        if isinstance(spec.get("type"), list)
        else [spec.get("type", "string")]
    )
    entry = {
        "name": name,
        "kind": KINDS.get(types[0], "string"),
        "label": name.replace("_", " ").title(),
        "description": spec.get("description", ""),
    }
    if SECRET.search(name):
        entry["sensitive"] = True
    if "default" in spec and spec["default"] is not None:
        entry["value"] = spec["default"]
    return entry


def main(executable: str) -> None:
    about = json.loads(subprocess.check_output([executable, "--about", "--format=json"]))
    lock = {
        "plugin_type": "loaders",
        "name": "target-postgres",
        "namespace": "target_postgres",
        "variant": "meltanolabs",
        "label": "Postgres",
        "docs": "https://hub.meltano.com/loaders/target-postgres--meltanolabs",
        "repo": "https://github.com/MeltanoLabs/target-postgres",
        "pip_url": PIN,
        "executable": "target-postgres",
        "description": "PostgreSQL database loader",
        "capabilities": sorted(about["capabilities"]),
        "settings_group_validation": [[]],
        "settings": [setting(n, s) for n, s in sorted(about["settings"]["properties"].items())],
        "dialect": "postgres",
    }
    LOCK.parent.mkdir(parents=True, exist_ok=True)
    LOCK.write_text(json.dumps(lock, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {LOCK} ({len(lock['settings'])} settings, target-postgres {about['version']})")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "target-postgres")
