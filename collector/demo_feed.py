"""``python -m collector.demo_feed --spool PATH``: the demo's pushed data.

Starts the collector on a free local port with a throwaway token and the given
spool, posts each body of ``samples/collector`` the way its app does (Overland
with ``?token=``, OwnTracks with Basic auth and ``X-Limit-*`` headers, Health Auto
Export and events with a bearer header), checks each answer, and stops it.
``tap-events`` (with ``TAP_EVENTS_SPOOL_PATH`` = PATH) then loads them.
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples" / "collector"
#: file -> (endpoint, how the app passes the token)
FEED = [
    ("overland.json", "/overland", "query"),
    ("owntracks-location.json", "/owntracks", "basic"),
    ("owntracks-transition.json", "/owntracks", "basic"),
    ("health-auto-export.json", "/health-auto-export", "bearer"),
    ("events.json", "/events", "bearer"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _request(base: str, endpoint: str, auth: str, token: str, body: bytes) -> urllib.request.Request:
    headers = {"Content-Type": "application/json"}
    url = base + endpoint
    if auth == "query":
        url += "?token=" + token
    elif auth == "basic":
        headers["Authorization"] = "Basic " + base64.b64encode(f"demo:{token}".encode()).decode()
        headers.update({"X-Limit-U": "demo", "X-Limit-D": "phone"})
    else:
        headers["Authorization"] = "Bearer " + token
    return urllib.request.Request(url, data=body, headers=headers, method="POST")


def _wait_up(base: str, proc: subprocess.Popen) -> None:
    for _ in range(300):
        if proc.poll() is not None:
            raise SystemExit(f"demo_feed: the collector exited ({proc.returncode})")
        try:
            urllib.request.urlopen(base + "/health", timeout=2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("demo_feed: the collector did not start")


def feed(spool: Path) -> None:
    token, port = secrets.token_urlsafe(24), _free_port()
    env = {
        **os.environ,
        "COLLECTOR_TOKEN": token,
        "COLLECTOR_PORT": str(port),
        "COLLECTOR_SPOOL": str(spool),
        "COLLECTOR_CONTRACTS": str(ROOT / "schemas" / "events"),
    }
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "collector"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_up(base, proc)
        for name, endpoint, auth in FEED:
            body = (SAMPLES / name).read_bytes()
            try:
                with urllib.request.urlopen(_request(base, endpoint, auth, token, body), timeout=30) as answer:
                    status, text = answer.status, answer.read().decode()
            except urllib.error.HTTPError as exc:
                status, text = exc.code, exc.read().decode()
            if status != 200:
                raise SystemExit(f"demo_feed: {endpoint} answered {status}: {text[:300]}")
            print(f"  posted samples/collector/{name} to {endpoint}: {text[:120]}")
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spool", required=True, type=Path)
    feed(parser.parse_args().spool)


if __name__ == "__main__":
    main()
