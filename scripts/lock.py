"""`make lock`: resolve every dependency, transitive ones included, from the top-level pins.

Two sets of virtualenvs, so two constraints files, each with one version per package:

- ``constraints.txt`` for ``.venv`` (requirements.txt: Meltano, the test and lint tools,
  the taps for in-process tests);
- ``plugins/constraints.txt`` for Meltano's plugin venvs (every ``pip_url`` in
  meltano.yml, resolved together so the taps and the loader agree).

They cannot be one file: Meltano needs ``sqlalchemy<2.1`` where the plugins resolve to
2.1, and target-postgres pins ``psycopg==3.3.6`` where requirements.txt pins 3.3.9.
``make install`` passes the first to pip (``-c``) and the second to ``meltano install``
(``UV_CONSTRAINT``, read by uv, Meltano's default installer; ``PIP_CONSTRAINT`` too, for
a project that switches ``venv.backend`` to virtualenv).

The project's own packages (the ``-e ./taps/...`` lines) are left out: a constraints
file cannot hold editable requirements, and they are pinned by being this checkout.
uv resolves (``uv pip compile``; uv comes with Meltano, so nothing new is installed).
It re-resolves from scratch: unpinned dependencies move to their newest compatible
release, which is the point of running it; review the diff, then ``make install test``.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
UV = Path(sys.executable).parent / "uv"
TARGETS = {"main": ROOT / "constraints.txt", "plugins": ROOT / "plugins" / "constraints.txt"}


def plugin_requirements(meltano_yml: Path) -> list[str]:
    """Every requirement in the ``pip_url`` of meltano.yml's plugins, once, in order."""
    project = yaml.safe_load(meltano_yml.read_text())
    lines: list[str] = []
    for plugins in (project.get("plugins") or {}).values():
        for plugin in plugins:
            words = (plugin.get("pip_url") or "").split()
            while words:
                word = words.pop(0)
                line = f"-e {words.pop(0)}" if word in ("-e", "--editable") else word
                if line not in lines:
                    lines.append(line)
    return lines


def without_editables(compiled: str) -> str:
    """uv's output less the ``-e`` requirements and the ``# via`` lines under them."""
    kept, skipping = [], False
    for line in compiled.splitlines():
        if not line.startswith(" "):  # a requirement or a header comment starts a block
            skipping = line.startswith("-e ")
        if not skipping:
            kept.append(line)
    return "\n".join(kept) + "\n"


def compile_requirements(requirements: str, source: str, python: str = sys.executable) -> str:
    """``uv pip compile`` of requirements text (relative paths from the project root), annotated
    with what needs each pin; ``source`` names where the top-level requirements come from."""
    env = {**os.environ, "UV_CONSTRAINT": "", "PIP_CONSTRAINT": ""}  # resolve afresh, not from the lock
    done = subprocess.run(
        [str(UV), "pip", "compile", "-", "--quiet", f"--python={python}", "--custom-compile-command=make lock"],
        input=requirements,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"uv pip compile failed:\n{done.stderr}")
    return without_editables(re.sub(r"-r -$", f"-r {source}", done.stdout, flags=re.MULTILINE))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "scripts"))
    import registry

    taps = "".join(f"-e ./{package}\n" for package in registry.packages())  # installed with requirements.txt
    sources = {
        "main": ("requirements.txt", (ROOT / "requirements.txt").read_text() + taps),
        "plugins": ("meltano.yml", "\n".join(plugin_requirements(ROOT / "meltano.yml")) + "\n"),
    }
    for name, (source, requirements) in sources.items():
        TARGETS[name].write_text(compile_requirements(requirements, source))
        print(f"wrote {TARGETS[name].relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
