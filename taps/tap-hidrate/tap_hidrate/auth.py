"""HidrateSpark's Parse server session: log in once per run, again once if it expires.

The app talks to a Parse server; there is no official API. A login
(``GET /login?username=&password=`` with the app's Parse application id and
client key headers) returns a ``sessionToken``, sent back as
``X-Parse-Session-Token``. The password travels in the query string, as the
app sends it: it is registered as a secret so it is masked everywhere.

The login is retried like any request (``bronze_core.http.auth_request``).
A refused login (a wrong or changed password, wrong app keys) stops the run
naming the settings to fix, and a login the server still cannot answer after
the retries stops it with "run again later" (``bronze_core.http.auth_answer_error``):
a refused password is sent once per run, never once per stream (Parse servers
can lock an account after repeated failed logins).
"""

from __future__ import annotations

import threading

import requests

from bronze_core.http import auth_answer_error, auth_request, json_object_body
from bronze_core.redact import register_secret
from bronze_core.redirects import SameOriginSession

#: The settings a refused login asks to check.
FIX = "Check the `username` and `password` settings, and `app_id`/`client_key` (the app's Parse keys)."


class HidrateSession(requests.auth.AuthBase):
    """Parse headers plus a session token obtained by logging in."""

    def __init__(self, config: dict):
        self._config = config  # the login's settings, and the HTTP ones it is timed and retried by
        self._token: str | None = None
        self._lock = threading.Lock()
        # The login carries the password (query) and the Parse keys (headers): same host only.
        self._session = SameOriginSession("hidrate", setting="api_url")
        self.logins = 0
        for name in ("password", "app_id", "client_key"):
            register_secret(config.get(name))

    def parse_headers(self) -> dict[str, str]:
        return {"X-Parse-Application-Id": self._config["app_id"], "X-Parse-Client-Key": self._config["client_key"]}

    def login(self) -> None:
        with self._lock:
            response = auth_request(
                self._session,
                "GET",
                self._config["api_url"].rstrip("/") + "/login",
                self._config,
                source="hidrate",
                what="the login endpoint",
                params={"username": self._config["username"], "password": self._config["password"]},
                headers=self.parse_headers(),
            )
            token = json_object_body(response).get("sessionToken") if response.status_code == 200 else None
            if not token or not isinstance(token, str):
                raise auth_answer_error("hidrate", response, refused="login refused", failed="login failed", fix=FIX)
            self._token = token
            register_secret(self._token)
            self.logins += 1

    def __call__(self, request):
        if self._token is None:
            self.login()
        request.headers.update(self.parse_headers())
        request.headers["X-Parse-Session-Token"] = self._token
        return request
