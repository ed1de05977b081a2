"""Credentials never follow a redirect to another host, for every API tap (issue 18).

Each case is a real ``meltano run`` against the tap's fake API, which answers
one request (a data request, or the token refresh / login where the tap has
one) with a 301/302/307/308 whose ``Location`` points at a second copy of the
same fake on another host (127.0.0.2, same port). The second server must
receive nothing at all, and the run must fail with a message naming both
hosts and no secret.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bronze_core.redirects import show_origin
from tests.reliability.cases import API_TAPS, ApiTap
from tests.reliability.helpers import output, run

TAPS = {t.name: t for t in API_TAPS}


@dataclass
class Case:
    tap: str
    request: str  # which request is redirected
    path: str  # it is the first request whose path contains this
    status: int
    before: dict | None = None  # a fault served first (to make the tap refresh its token)

    @property
    def id(self) -> str:
        return f"{self.tap}-{self.request}-{self.status}"


CASES = [
    Case("tap-garmin", "data", "dailySleepData", 301),
    # The reproduced leak: a 307 on the refresh re-posts the refresh token.
    Case("tap-garmin", "token-refresh", "/oauth/token", 307, before={"kind": "status", "status": 401}),
    Case("tap-toggl", "data", TAPS["tap-toggl"].fault_path, 302),
    Case("tap-notion", "data", TAPS["tap-notion"].fault_path, 307),
    Case("tap-airtable", "data", TAPS["tap-airtable"].fault_path, 307),
    Case("tap-openmeteo", "data", TAPS["tap-openmeteo"].fault_path, 308),
    # The reproduced leak: the Parse keys and the session token in headers.
    Case("tap-hidrate", "data", TAPS["tap-hidrate"].fault_path, 302),
    # The login carries the password in its query string and the Parse keys in headers.
    Case("tap-hidrate", "login", "/parse/login", 308),
    Case("tap-hubspot", "data", TAPS["tap-hubspot"].fault_path, 308),
]


def test_every_api_tap_and_auth_request_is_covered():
    assert {c.tap for c in CASES} == set(TAPS), "a new API tap needs a redirect case here"
    assert {c.status for c in CASES} == {301, 302, 307, 308}


def _other_host(tap: ApiTap, port: int):
    """A second copy of the tap's fake API on 127.0.0.2 (the same port where it is free)."""
    fake = tap.make_fake()
    try:
        return fake.start(port=port, host="127.0.0.2")
    except OSError:
        return fake.start(host="127.0.0.2")


def _secrets(tap: ApiTap, fake) -> list[str]:
    """Every secret the run was given or obtained, recognisably."""
    from tests.reliability.test_security import SECRET_SETTINGS

    given = [str(v) for k, v in tap.settings(fake).items() if k in SECRET_SETTINGS]
    return [s for s in given + tap.secrets(fake) if s]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_a_redirect_to_another_host_gets_nothing_and_fails_clearly(meltano, case):
    tap = TAPS[case.tap]
    with tap.make_fake() as fake:
        port = int(fake.url.rsplit(":", 1)[1])
        other = _other_host(tap, port)
        try:
            if case.before:
                fake.inject(**case.before)
            fake.inject("redirect", path_contains=case.path, status=case.status, to=other.url)
            result = run(meltano, tap, fake)
        finally:
            other.stop()
    text = output(result)
    assert fake.pending_faults() == 0, "the redirect was never asked for: the case tests nothing"
    assert other.requests == [], (
        f"{len(other.requests)} request(s) followed the redirect to the other host: "
        f"{[(r['method'], r['path']) for r in other.requests]}"
    )
    assert result.returncode != 0, "a refused redirect must fail the run"
    assert "refused a redirect" in text and f"HTTP {case.status}" in text, text[-3000:]
    assert show_origin(fake.url) in text and show_origin(other.url) in text, text[-3000:]
    secrets = _secrets(tap, fake)
    for secret in secrets:
        assert secret not in text, f"a secret ({secret[:6]}...) reached the run's output"
