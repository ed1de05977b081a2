"""Starting `meltano run` in the background and finding its tap and target processes."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.conftest import MELTANO, ROOT


def start(meltano, *args: str, extra_env: dict) -> subprocess.Popen:
    """`meltano <args>` in its own session, so its children can be found (and only they)."""
    env = {**os.environ, **meltano.env, **extra_env}
    return subprocess.Popen([MELTANO, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def child(run: subprocess.Popen, executable: str) -> int:
    """The pid of the process of ``run``'s session whose program is ``.../bin/<executable>``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == run.pid:
            continue
        try:
            session = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[3])
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError, IndexError):
            continue
        if session == run.pid and any(a.decode(errors="replace").endswith("/bin/" + executable) for a in argv):
            found.append(int(entry.name))
    assert len(found) == 1, f"expected one {executable} process in the run, found {found}"
    return found[0]
