"""Starting `meltano run` in the background and finding its tap and target processes."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from tests.conftest import MELTANO, ROOT


class BackgroundRun:
    """A started `meltano` whose output goes to temporary files, not pipes.

    A test that polls or waits without reading would otherwise deadlock as
    soon as a run logs more than a pipe holds (64 kB): the run blocks on its
    write and never ends. Otherwise it behaves as the ``Popen`` it wraps;
    ``stdout``/``stderr`` read from the start, ``communicate`` waits then reads.
    """

    def __init__(self, popen: subprocess.Popen, out, err):
        self._popen, self._out, self._err = popen, out, err

    def __getattr__(self, name):  # pid, poll, wait, kill, send_signal, returncode, ...
        return getattr(self._popen, name)

    @property
    def stdout(self):
        self._out.seek(0)
        return self._out

    @property
    def stderr(self):
        self._err.seek(0)
        return self._err

    def communicate(self, timeout: float | None = None) -> tuple[str, str]:
        self._popen.wait(timeout)
        return self.stdout.read(), self.stderr.read()


def start(meltano, *args: str, extra_env: dict) -> BackgroundRun:
    """`meltano <args>` in its own session, so its children can be found (and only they)."""
    env = {**os.environ, **meltano.env, **extra_env}
    out, err = tempfile.TemporaryFile("w+"), tempfile.TemporaryFile("w+")
    popen = subprocess.Popen(
        [MELTANO, *args], cwd=ROOT, env=env, stdout=out, stderr=err, text=True, start_new_session=True
    )
    return BackgroundRun(popen, out, err)


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
