"""Transport faults against every API tap: real `meltano run`, real PostgreSQL.

One run per tap gets the whole fault sequence of ``FAULT_SEQUENCE`` (429 with
and without Retry-After, 500, 502, 503, a connection reset mid-body, a read
timeout, an HTML page with status 200, a truncated JSON body) on one request
part-way through its walk, then an expired credential where the source can
refresh. Every one of these is retriable, so the run itself must succeed
(stricter than "after one re-run") and bronze must equal the source, with no
gap and no duplicate. A revoked credential must fail the run with a message naming the
setting to fix.
"""

from __future__ import annotations

import pytest

from tests.reliability.cases import API_TAPS, FAULT_SEQUENCE
from tests.reliability.helpers import assert_exact, assert_no_secret, output, run, stored_text


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
        secrets = tap.secrets(fake) + [v for v in overrides.values() if "s3cr3t" in str(v)]
        assert_no_secret(
            secrets,
            **{"failed run's log and exception": output(result)},
            **stored_text(meltano, f"dev:{tap.name}-to-target-postgres"),
        )
