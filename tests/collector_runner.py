"""The collector as a real process (``python -m collector``, uvicorn), for the tests."""

from __future__ import annotations

import json
import os
import resource
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "test-collector-token-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Collector:
    spool: Path
    log: Path
    env: dict = field(repr=False)
    port: int = 0
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30, file_size_limit: int | None = None) -> Collector:
        """Start it and wait for ``/health``; ``file_size_limit`` (bytes) makes every write past
        that size fail as on a full disk (RLIMIT_FSIZE, SIGXFSZ ignored: ``EFBIG``)."""
        self.port = free_port()
        env = {**os.environ, **self.env, "COLLECTOR_PORT": str(self.port)}
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "collector"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=None if file_size_limit is None else lambda: _limit_file_size(file_size_limit),
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"collector exited {self.proc.returncode}: {self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as answer:
                    if answer.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        raise AssertionError("collector did not answer /health")

    def lift_file_size_limit(self) -> None:
        """The disk has room again, for the running process (its soft limit back up to the hard one)."""
        hard = resource.prlimit(self.proc.pid, resource.RLIMIT_FSIZE)[1]
        resource.prlimit(self.proc.pid, resource.RLIMIT_FSIZE, (hard, hard))

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill9()

    def spooled(self, stream: str | None = None) -> list[tuple[str, dict, dict]]:
        """``(stream, payload, context)`` of every spooled item, in order (read straight from SQLite)."""
        with sqlite3.connect(self.spool) as conn:
            rows = conn.execute("SELECT stream, payload, context FROM items ORDER BY seq").fetchall()
        return [(s, json.loads(p), json.loads(c)) for s, p, c in rows if stream in (None, s)]


def _limit_file_size(limit: int) -> None:
    """In the child before exec: files stop growing at ``limit`` bytes; the write that would
    pass it fails with EFBIG instead of killing the process (SIGXFSZ stays ignored across exec)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))


def collector(tmp_path: Path, **env: str) -> Collector:
    settings = {
        "COLLECTOR_TOKEN": TOKEN,
        "COLLECTOR_SPOOL": str(tmp_path / "spool" / "spool.sqlite3"),
        "COLLECTOR_CONTRACTS": str(ROOT / "schemas" / "events"),
        **env,
    }
    return Collector(spool=Path(settings["COLLECTOR_SPOOL"]), log=tmp_path / "collector.log", env=settings)
