"""What every Toggl Track API v9 stream shares: base URL, Basic auth, the 402 quota."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from requests.auth import HTTPBasicAuth

from bronze_core.http import JSON_ARRAY, BronzeRESTStream, ResponseShape, SyncStopped
from bronze_core.timestamps import UTC

SCHEMAS_DIR = Path(__file__).parent / "schemas"
#: Header in which Toggl says when the hourly quota frees up (seconds); unconfirmed.
QUOTA_RESET_HEADER = "X-Toggl-Quota-Resets-In"


class TogglStream(BronzeRESTStream):
    """A Toggl Track API v9 stream."""

    source = "toggl"
    schemas_dir = SCHEMAS_DIR
    auth_setting = "api_token"
    records_jsonpath = "$[*]"
    response_shape = JSON_ARRAY
    key_fields = ("id",)
    time_field = "at"

    @property
    def authenticator(self):
        # Toggl's documented form: the token as user name, "api_token" as password.
        return HTTPBasicAuth(self.config["api_token"], "api_token")

    def validate_response(self, response) -> None:
        if response.status_code == 402:
            raise SyncStopped(self.quota_message(response), failed=True)
        super().validate_response(response)

    def quota_message(self, response) -> str:
        """Toggl answers 402 when the hourly request quota is used up: say when to retry."""
        wait = response.headers.get(QUOTA_RESET_HEADER)
        if wait and wait.isdigit():
            when = dt.datetime.now(UTC) + dt.timedelta(seconds=int(wait))
            retry = f"retry after {when:%H:%M} UTC (in {int(wait) // 60 + 1} min)"
        else:
            retry = "retry in an hour (the quota is a sliding hour)"
        return (
            f"Toggl's request quota is used up (HTTP 402 on {response.request.path_url.split('?')[0]}); "
            f"state is saved, {retry}. Lower `max_requests_per_run` or upgrade the plan."
        )


class TogglFullStream(TogglStream):
    """Small lists read whole on every run; unchanged payloads are no-ops."""

    state_partitioning_keys: list[str] = []
    #: Toggl answers `null` for an empty workspace list (projects, clients, tags), a known
    #: quirk of its API. Accepted only here: these lists keep no bookmark and are read whole
    #: every run, so a wrong `null` cannot hide anything beyond that run.
    response_shape = ResponseShape(list, null_is_empty=True)
