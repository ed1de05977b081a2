"""Settings every REST tap offers."""

from __future__ import annotations

from singer_sdk import typing as th

#: Settings every REST tap offers; tests turn the waits down to milliseconds.
#: All integers: Meltano's `decimal` setting kind cannot serialise its own values.
HTTP_SETTINGS = [
    th.Property("request_timeout", th.IntegerType, default=60,
                description="Seconds one request may take, the whole answer (body included); "
                            "then it is retried."),
    th.Property("max_retries", th.IntegerType, default=5,
                description="Retries of one request on 5xx, 429, timeouts and connection errors."),
    th.Property("backoff_base_ms", th.IntegerType, default=2000,
                description="First wait of the exponential backoff in milliseconds (doubles each retry)."),
    th.Property("backoff_max_seconds", th.IntegerType, default=300,
                description="Longest single wait. A Retry-After asking for more fails the run "
                            "cleanly (state kept) instead of blocking."),
]
