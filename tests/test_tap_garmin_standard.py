"""singer-sdk's standard tap tests for tap-garmin, against the local fake Garmin API."""

from __future__ import annotations

import atexit

from singer_sdk.testing import get_tap_test_class

from tap_garmin.tap import TapGarmin
from tests import tap_runner
from tests.fakes.garmin_api import FakeGarmin

# The standard test class is built at import time from a config, so the fake
# server has to be up by then; it is stopped when the test process exits.
_FAKE = FakeGarmin(days=5).start()
atexit.register(_FAKE.stop)

CONFIG = tap_runner.garmin_config(_FAKE, backoff_base_ms=10)

TestTapGarmin = get_tap_test_class(tap_class=TapGarmin, config=CONFIG)
