"""Transport faults against every API tap: real `meltano run`, real PostgreSQL.

One run per tap gets the whole fault sequence of ``FAULT_SEQUENCE`` (429 with
and without Retry-After, 500, 502, 503, a connection reset mid-body, a read
timeout, an HTML page with status 200, a truncated JSON body) on one request
part-way through its walk, then an expired credential where the source can
refresh. Every one of these is retriable, so the run itself must succeed
(stricter than "after one re-run") and bronze must equal the source, with no
gap and no duplicate. A revoked credential must fail the run with a message naming the
setting to fix, and stop it there: where the source refreshes, a refresh it refuses
(mid-run too) is sent once, not once per stream.
"""

from __future__ import annotations

import pytest

from tests.reliability.cases import API_TAPS, FAULT_SEQUENCE
from tests.reliability.helpers import assert_exact, assert_no_secret, output, run, stored_text
from tests.test_status import verdicts


@pytest.mark.parametrize("tap", API_TAPS, ids=lambda t: t.name)
def test_fault_sequence_then_exact_rows(meltano, tap):
    with tap.make_fake() as fake:
        for fault in FAULT_SEQUENCE + ([tap.expire] if tap.expire else []):
            fake.inject(path_contains=tap.fault_path, skip=tap.fault_skip, **fault)
        first = run(meltano, tap, fake)
        assert fake.pending_faults() == 0, "not every injected fault was served"
        assert first.returncode == 0, f"{tap.name} did not ride out the faults:\n{output(first)[-3000:]}"
        assert_exact(meltano, tap, fake)
        served = [r["status"] for r in fake.requests if tap.fault_path in r["path"]]
        assert {429, 500, 502, 503, -1, -2} <= set(served)
        if tap.secrets(fake):  # error paths, retries and refreshes logged at debug level
            assert_no_secret(
                tap.secrets(fake), log=output(first), **stored_text(meltano, f"dev:{tap.name}-to-target-postgres")
            )


@pytest.mark.parametrize("tap", [t for t in API_TAPS if t.auth_setting], ids=lambda t: t.name)
def test_revoked_credentials_fail_naming_the_setting(meltano, tap):
    with tap.make_fake() as fake:
        overrides = tap.revoke(fake) or {}
        result = run(meltano, tap, fake, **overrides)
        assert result.returncode != 0
        assert f"`{tap.auth_setting}`" in output(result), output(result)[-3000:]
        assert_stopped_once(tap, fake, result)
        secrets = tap.secrets(fake) + [v for v in overrides.values() if "s3cr3t" in str(v)]
        assert_no_secret(
            secrets,
            **{"failed run's log and exception": output(result)},
            **stored_text(meltano, f"dev:{tap.name}-to-target-postgres"),
        )


def assert_stopped_once(tap, fake, result) -> None:
    """The run stopped at the refused credentials, as a rejected token does (the core's
    ``CredentialsRejected``), not stream after stream with "everything else landed"; where
    the source refreshes, nothing was asked after the refused refresh or login."""
    log = output(result)
    assert "the run stops here" in log and "everything else landed" not in log, log[-3000:]
    if tap.auth_path:
        refused = [n for n, r in enumerate(fake.requests) if r["path"] == tap.auth_path and r["status"] >= 400]
        assert refused == [len(fake.requests) - 1], "the refused credentials were sent again"


@pytest.mark.parametrize("tap", [t for t in API_TAPS if t.refuse_refresh], ids=lambda t: t.name)
def test_a_refresh_refused_mid_run_stops_it_then_a_rerun_is_exact(meltano, tap):
    """The access token (or session) expires part-way and the source refuses the refresh
    (Garmin: the refresh token was spent by another client; HidrateSpark: the password was
    changed): the run fails naming the setting, with no secret anywhere; what landed stays,
    the stream that was cut keeps no bookmark past what it read; `make status` says failed;
    once the credentials are fixed, one ordinary run lands exactly the source."""
    with tap.make_fake() as fake:
        held = tap.settings(fake)  # the credentials the run starts with
        fake.inject(path_contains=tap.fault_path, skip=tap.fault_skip, **tap.expire)
        tap.refuse_refresh(fake)
        first = run(meltano, tap, fake, **held)
        assert fake.pending_faults() == 0, "the expiry or the refusal was never served"
        assert first.returncode != 0
        assert f"`{tap.auth_setting}`" in output(first), output(first)[-3000:]
        assert_stopped_once(tap, fake, first)
        state_id = f"dev:{tap.name}-to-target-postgres"
        assert_no_secret(tap.secrets(fake), log=output(first), **stored_text(meltano, state_id))
        cursor = meltano.state(state_id)["singer_state"]["bookmarks"].get(tap.fault_stream, {}).get("cursor")
        if cursor:  # saved as it went (a read oldest first): never past what landed
            sql = f"SELECT %s::timestamptz <= max({tap.cursor_sql}) FROM bronze.{tap.fault_stream}"
            assert meltano.query(sql, cursor)[0][0], f"{tap.fault_stream}: cursor {cursor} past the landed rows"
        _, rows = verdicts(meltano)
        assert {r["verdict"] for r in rows.values() if r["pipeline"] == tap.name} == {"failed"}

        again = run(meltano, tap, fake)  # fixed credentials: the fake's current ones
        assert again.returncode == 0, output(again)[-3000:]
        assert_exact(meltano, tap, fake)
