"""bronze_core.redirects: which redirects carry credentials, and that taps cannot bypass it.

The per-tap runs are in tests/reliability/test_redirects.py; here the rule
itself, against real local servers, and a check that no tap sends a request
outside the shared session.
"""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from bronze_core.redirects import CrossHostRedirect, SameOriginSession, may_follow, show_origin

ROOT = Path(__file__).resolve().parent.parent


class Server:
    """A tiny server: ``/go?to=URL&status=N`` redirects, anything else answers 200 and is logged."""

    def __init__(self, host: str = "127.0.0.1"):
        seen = self.seen = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if self.path.startswith("/go?"):
                    params = dict(p.split("=", 1) for p in self.path[4:].split("&"))
                    self.send_response(int(params["status"]))
                    self.send_header("Location", requests.utils.unquote(params["to"]))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                seen.append((self.command, self.path, dict(self.headers), body))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_GET = do_POST = _handle

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.url = f"http://{host}:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()  # quick shutdown

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def servers():
    first, same_host_other_port, other_host = Server(), Server(), Server("127.0.0.2")
    yield first, same_host_other_port, other_host
    for server in (first, same_host_other_port, other_host):
        server.close()


def _go(server: Server, to: str, status: int) -> str:
    return f"{server.url}/go?to={requests.utils.quote(to, safe='')}&status={status}"


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_within_the_same_origin_is_followed(servers, status):
    first, _, _ = servers
    session = SameOriginSession("x")
    response = session.post(
        _go(first, first.url + "/moved/here", status),
        headers={"X-Parse-Session-Token": "r:session-s3cr3t"},
        data={"a": "1"},
    )
    assert response.status_code == 200
    assert [(m, p) for m, p, _, _ in first.seen] == [("POST" if status in (307, 308) else "GET", "/moved/here")]
    # A relative Location is the same origin too.
    first.seen.clear()
    assert session.get(_go(first, "/relative", status)).status_code == 200
    assert first.seen[0][1] == "/relative"


@pytest.mark.parametrize("status", [301, 302, 307, 308])
@pytest.mark.parametrize("target", ["other port", "other host"])
def test_a_redirect_to_another_origin_sends_nothing_there(servers, status, target):
    first, other_port, other_host = servers
    other = other_port if target == "other port" else other_host
    session = SameOriginSession("hidrate", setting="api_url")
    with pytest.raises(CrossHostRedirect) as refused:
        session.post(
            _go(first, other.url + "/steal?password=PASSWORD-s3cr3t", status),
            params={"password": "PASSWORD-s3cr3t"},
            headers={"X-Parse-Client-Key": "KEY-s3cr3t", "Authorization": "Bearer TOKEN-s3cr3t"},
            data={"refresh_token": "REFRESH-s3cr3t"},
        )
    assert other.seen == [] and first.seen == []
    message = str(refused.value)
    assert message.startswith(f"hidrate: refused a redirect (HTTP {status}) from {first.url} to {other.url}")
    assert "`api_url`" in message
    assert "s3cr3t" not in message and "/steal" not in message


def test_requests_own_session_does_follow_with_the_custom_headers(servers):
    """Why the session exists: plain requests strips Authorization only, and re-posts on a 307."""
    first, _, other_host = servers
    requests.post(
        _go(first, other_host.url + "/x", 307),
        headers={"X-Parse-Client-Key": "KEY-s3cr3t"},
        data={"refresh_token": "REFRESH-s3cr3t"},
        timeout=10,
    )
    ((_, _, headers, body),) = other_host.seen
    assert headers["X-Parse-Client-Key"] == "KEY-s3cr3t" and b"REFRESH-s3cr3t" in body


def test_allow_redirects_false_still_returns_the_redirect(servers):
    """The refusal happens when a hop would be sent, not when requests prepares ``response.next``."""
    first, _, other_host = servers
    response = SameOriginSession().get(_go(first, other_host.url + "/x", 302), allow_redirects=False)
    assert response.status_code == 302 and other_host.seen == []


@pytest.mark.parametrize(
    "source, target, allowed",
    [
        ("https://api.example.com/a", "https://api.example.com/b?c=d", True),
        ("https://API.example.com/a", "https://api.example.com:443/b", True),
        ("http://api.example.com/a", "https://api.example.com/a", True),  # upgrade to TLS, same host
        ("http://api.example.com:80/a", "https://api.example.com:443/a", True),
        ("https://api.example.com/a", "http://api.example.com/a", False),  # downgrade
        ("http://api.example.com:8080/a", "https://api.example.com/a", False),
        ("https://api.example.com/a", "https://api.example.com:8443/a", False),
        ("https://api.example.com/a", "https://evil.example.com/a", False),
        ("https://api.example.com/a", "https://api.example.com.evil.net/a", False),
        ("https://api.example.com/a", "https://api.example.com@evil.net/a", False),
        ("https://api.example.com/a", "ftp://api.example.com/a", False),
    ],
)
def test_which_redirects_may_carry_credentials(source, target, allowed):
    assert may_follow(source, target) is allowed


def test_the_message_shows_origins_only():
    assert show_origin("https://user:pw@Host.example:8443/p?password=x#f") == "https://host.example:8443"
    assert show_origin("https://h.example/p") == "https://h.example:443"


#: Calls that send a request without the shared session (and so without the redirect rule).
BYPASS = re.compile(
    r"\brequests\.(get|post|put|patch|delete|head|options|request|Session)\s*\(|"
    r"\burllib\.request\b|\bhttp\.client\b|\bhttpx\b|\burllib3\.(PoolManager|request)"
)


def test_no_tap_sends_a_request_outside_the_shared_session():
    offenders = []
    for path in sorted(ROOT.glob("taps/*/*/**/*.py")):  # subpackages (bronze_core.http) too
        text = path.read_text(encoding="utf-8")
        offenders += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in BYPASS.finditer(text)]
        if (
            re.search(r"def requests_session\b", text)
            and "redirects.py" not in path.name
            and path.relative_to(ROOT).as_posix() != "taps/bronze-core/bronze_core/http/requesting.py"
        ):
            offenders.append(f"{path.relative_to(ROOT)}: overrides requests_session")
    assert offenders == [], "use bronze_core.redirects.SameOriginSession: " + "; ".join(offenders)
