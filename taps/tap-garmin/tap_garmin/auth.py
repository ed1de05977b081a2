"""Garmin Connect bearer tokens: load, refresh, and keep the refreshed pair.

Garmin's DI OAuth service issues an access token (about an hour) and a refresh
token. Logging in with a password on every run triggers 429s for hours, so the
tap never logs in: it reuses the pair from ``token_file`` (or the
``access_token``/``refresh_token`` settings), refreshes when the access token
has expired or the API answers 401, and writes the new pair back to the token
file so the next run starts with it. Tokens never reach logs or state.

The refresh is retried like any request (``bronze_core.http.auth_request``).
A refresh the token service refuses (``invalid_grant``: the refresh token was
revoked, expired or rotated by another client) stops the run naming the
settings to fix; one it still cannot answer after the retries stops it with
"run again later" (``bronze_core.http.auth_answer_error``). Either way a
refused refresh token is sent once per run, not once per stream.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests

from bronze_core.http import (
    CredentialsRejected,
    CredentialsUnavailable,
    auth_answer_error,
    auth_request,
    json_object_body,
)
from bronze_core.redact import register_secret
from bronze_core.redirects import SameOriginSession

EXPIRY_MARGIN_SECONDS = 60


#: What to do when the token service refuses the refresh token.
REFRESH_FIX = "Log in again and re-create `token_file` (or the `refresh_token` setting)."


class GarminAuthError(CredentialsRejected):
    """The tokens cannot be used or refreshed; the user must act (the run stops, naming the setting)."""


class GarminTokenAuth(requests.auth.AuthBase):
    """Adds ``Authorization: Bearer`` and refreshes the pair when needed."""

    def __init__(self, config: dict[str, Any], logger):
        self._logger = logger
        self._lock = threading.Lock()
        self._auth_url = config["auth_url"]
        self._client_id = config["client_id"]
        self._config = config  # the HTTP settings: the refresh is timed and retried as other requests
        # The refresh posts the refresh token: a 307/308 must not re-post it to another host.
        self._session = SameOriginSession("garmin", setting="auth_url")
        self._token_file = Path(config["token_file"]).expanduser() if config.get("token_file") else None
        self.refresh_count = 0
        tokens = self._read_token_file() if self._token_file else {}
        self._access = config.get("access_token") or tokens.get("access_token")
        self._refresh = config.get("refresh_token") or tokens.get("refresh_token")
        self._expires_at = tokens.get("expires_at")
        if not self._access and not self._refresh:
            raise GarminAuthError(
                "garmin: no tokens. Set `token_file` (a JSON file with access_token and "
                "refresh_token) or the `access_token` and `refresh_token` settings."
            )
        register_secret(self._access)
        register_secret(self._refresh)

    def _read_token_file(self) -> dict[str, Any]:
        path = self._token_file
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise GarminAuthError(f"garmin: token_file {path} does not exist.") from None
        except ValueError:
            raise GarminAuthError(f"garmin: token_file {path} is not valid JSON.") from None
        # garminconnect-style files nest the DI token; accept both shapes.
        return data.get("di_token", data) if isinstance(data, dict) else {}

    def _write_token_file(self, payload: dict[str, Any]) -> None:
        """Atomically replace the token file, readable by its owner only."""
        path = self._token_file
        if path is None:
            return
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".garmin_tokens.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(payload, handle)
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _expired(self) -> bool:
        return bool(self._expires_at) and time.time() > float(self._expires_at) - EXPIRY_MARGIN_SECONDS

    def refresh(self) -> None:
        """Trade the refresh token for a new pair and keep it."""
        with self._lock:
            if not self._refresh:
                raise GarminAuthError(
                    "garmin: the access token was rejected and there is no refresh token. "
                    "Re-create `token_file` (or set `refresh_token`)."
                )
            response = auth_request(
                self._session,
                "POST",
                self._auth_url,
                self._config,
                source="garmin",
                what="the token service",
                data={"grant_type": "refresh_token", "refresh_token": self._refresh, "client_id": self._client_id},
                auth=(self._client_id, ""),
            )
            if response.status_code != 200:
                raise auth_answer_error(
                    "garmin",
                    response,
                    refused="the token service refused the refresh token",
                    failed="the token service could not refresh the access token",
                    fix=REFRESH_FIX,
                )
            body = json_object_body(response)
            if not body.get("access_token") or not isinstance(body["access_token"], str):
                raise CredentialsUnavailable(
                    "garmin: the token service answered the refresh (HTTP 200) without an access "
                    "token; the saved tokens are unchanged. Run again later; if it persists, log "
                    "in again and re-create `token_file`."
                )
            self._access = body["access_token"]
            self._refresh = body.get("refresh_token", self._refresh)
            self._expires_at = time.time() + float(body.get("expires_in", 3600))
            register_secret(self._access)
            register_secret(self._refresh)
            self.refresh_count += 1
            self._write_token_file(
                {
                    "access_token": self._access,
                    "refresh_token": self._refresh,
                    "expires_at": self._expires_at,
                    "refresh_token_expires_at": time.time() + float(body.get("refresh_token_expires_in", 0) or 0),
                }
            )
            self._logger.info(
                "garmin: access token refreshed%s", " and saved to token_file" if self._token_file else ""
            )

    def __call__(self, request):
        if not self._access or self._expired():
            self.refresh()
        request.headers["Authorization"] = f"Bearer {self._access}"
        return request
