"""Settings every REST tap offers, declared once.

A REST tap's ``config_jsonschema`` names what is its own (the databases, the
tables, the objects) and takes the shared settings from here: its token
(``token_setting``), its pace (``pace_setting``), its base URL and the HTTP
settings (``api_settings``). Each tap still describes them in its own words
(which token, which pace the API allows), so ``--about`` reads as before.
"""

from __future__ import annotations

from singer_sdk import typing as th

#: Settings every REST tap offers; tests turn the waits down to milliseconds.
#: All integers: Meltano's `decimal` setting kind cannot serialise its own values.
HTTP_SETTINGS = [
    th.Property(
        "request_timeout",
        th.IntegerType,
        default=60,
        description="Seconds one request may take, the whole answer (body included); then it is retried.",
    ),
    th.Property(
        "max_retries",
        th.IntegerType,
        default=5,
        description="Retries of one request on 5xx, 429, timeouts and connection errors.",
    ),
    th.Property(
        "backoff_base_ms",
        th.IntegerType,
        default=2000,
        description="First wait of the exponential backoff in milliseconds (doubles each retry).",
    ),
    th.Property(
        "backoff_max_seconds",
        th.IntegerType,
        default=300,
        description="Longest single wait. A Retry-After asking for more fails the run "
        "cleanly (state kept) instead of blocking.",
    ),
]


def token_setting(description: str) -> th.Property:
    """``api_token``: required and secret (``BronzeTap`` keeps secret settings out of every output)."""
    return th.Property("api_token", th.StringType, required=True, secret=True, description=description)


def pace_setting(per_second: float, description: str) -> th.Property:
    """``requests_per_second``: the pace the API allows (``bronze_core.pacing.RequestThrottle``)."""
    return th.Property("requests_per_second", th.NumberType, default=per_second, description=description)


def api_url_setting(url: str, what: str) -> th.Property:
    """``api_url``: the API's base URL (``what`` at ``url``), which tests point at a fake server."""
    return th.Property("api_url", th.StringType, default=url, description=f"{what} (a local fake server in tests).")


def api_settings(url: str, what: str) -> list[th.Property]:
    """The closing settings of a REST tap: ``api_url`` (``api_url_setting``), then ``HTTP_SETTINGS``."""
    return [api_url_setting(url, what), *HTTP_SETTINGS]
