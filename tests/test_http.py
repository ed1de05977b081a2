"""Shared HTTP behaviour: Retry-After, backoff, and keeping secrets out of text."""

import email.utils
import json
import logging
import socket
import time

import pytest
import requests

from bronze_core.http import (
    CredentialsRejected,
    CredentialsUnavailable,
    RateLimitTooLong,
    TokenRefreshed,
    auth_answer_error,
    auth_request,
    error_message,
    json_object_body,
    retry_after_seconds,
    retry_waits,
)
from bronze_core.redact import SecretFilter, redact_params, register_secret, scrub


def response_with(headers):
    response = requests.Response()
    response.status_code = 429
    response.headers.update(headers)
    return response


class Failure(Exception):
    def __init__(self, response=None):
        self.response = response


def test_retry_after_as_seconds_and_as_http_date():
    assert retry_after_seconds(response_with({"Retry-After": "7"})) == 7
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= retry_after_seconds(response_with({"Retry-After": later})) <= 31
    assert retry_after_seconds(response_with({})) is None
    assert retry_after_seconds(None) is None


def test_retry_after_that_is_not_a_finite_number_counts_as_absent():
    for value in ("nan", "NaN", "inf", "-inf", "soon"):
        assert retry_after_seconds(response_with({"Retry-After": value})) is None, value
    waits = retry_waits(base=1, cap=100)
    next(waits)
    assert 0.75 <= waits.send(Failure(response_with({"Retry-After": "nan"}))) <= 1  # the backoff


def test_waits_follow_retry_after_else_double():
    waits = retry_waits(base=1, cap=100)
    next(waits)
    assert waits.send(Failure(response_with({"Retry-After": "3"}))) == 3
    first = waits.send(Failure())
    second = waits.send(Failure())
    assert 0.75 * 2 <= first <= 2 and 0.75 * 4 <= second <= 4  # attempts 1 and 2 double
    assert waits.send(TokenRefreshed("refreshed")) == 0


def test_retry_after_longer_than_allowed_fails_clearly():
    waits = retry_waits(base=1, cap=60)
    next(waits)
    with pytest.raises(RateLimitTooLong, match="3600 s"):
        waits.send(Failure(response_with({"Retry-After": "3600"})))


def test_secret_values_and_names_are_masked():
    register_secret("s3cr3t-token-value")
    assert scrub("Bearer s3cr3t-token-value failed") == "Bearer *** failed"
    assert redact_params({"password": "x", "date": "2024-01-01"}) == {"password": "***", "date": "2024-01-01"}


def test_log_filter_masks_registered_secrets(caplog):
    register_secret("another-secret-1234")
    logger = logging.getLogger("bronze-test")
    caplog.handler.addFilter(SecretFilter())
    with caplog.at_level(logging.INFO):
        logger.info("token is %s", "another-secret-1234")
    assert "another-secret-1234" not in caplog.text
    assert "token is ***" in caplog.text


def answered(status: int, body: bytes) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body
    return response


#: Error bodies as the APIs document them (HubSpot, Garmin's DI OAuth, Parse), and what each says.
DOCUMENTED_ERRORS = [
    (
        b'{"status":"error","message":"You have reached your daily limit.","errorType":"RATE_LIMIT",'
        b'"correlationId":"c0ffee","policyName":"DAILY"}',
        "You have reached your daily limit.",
    ),
    (b'{"error":"invalid_grant","error_description":"refresh token is invalid"}', "refresh token is invalid"),
    (b'{"code":101,"error":"Invalid username/password."}', "Invalid username/password."),
]


@pytest.mark.parametrize("body, said", DOCUMENTED_ERRORS)
def test_error_message_takes_the_apis_own_words(body, said):
    assert error_message(answered(400, body)) == said


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<html><title>502 Bad Gateway</title></html>",
        b'{"code": 20',
        b'["not", "an", "object"]',
        b"null",
        b"[" * 100_000,
    ],
)
def test_an_error_body_that_is_not_a_json_object_reads_as_empty(body):
    assert json_object_body(answered(502, body)) == {}
    assert error_message(answered(502, body)) is None


@pytest.mark.parametrize("body", [b'{"code": 209}', b'{"error": 42}', b'{"message": "   "}'])
def test_an_error_object_without_words_has_no_message(body):
    assert json_object_body(answered(400, body)) == json.loads(body)
    assert error_message(answered(400, body)) is None


#: Answers of a token or login endpoint that hand out no credentials, and what they mean.
AUTH_ANSWERS = [
    # Garmin's DI OAuth: a revoked, expired or rotated-out refresh token; it quotes the token.
    (400, b'{"error":"invalid_grant","error_description":"Invalid refresh token: rt-echoed-7"}', CredentialsRejected),
    (401, b'{"error":"invalid_client","error_description":"client authentication failed"}', CredentialsRejected),
    (404, b'{"code":101,"error":"Invalid username/password."}', CredentialsRejected),  # Parse's wrong password
    (200, b"<html><title>Sign in</title></html>", CredentialsRejected),  # a 2xx that hands none out
    (429, b"", CredentialsUnavailable),
    (503, b"<html><title>503 Service Unavailable</title></html>", CredentialsUnavailable),
]


@pytest.mark.parametrize("status, body, kind", AUTH_ANSWERS)
def test_an_auth_answer_without_credentials_is_refused_or_unavailable(status, body, kind):
    """A refusal names the settings to fix; an outage says run again later and blames nothing."""
    register_secret("rt-echoed-7")
    error = auth_answer_error(
        "src", answered(status, body), refused="refresh refused", failed="refresh failed", fix="Fix `refresh_token`."
    )
    text = str(error)
    assert type(error) is kind and f"HTTP {status}" in text and "rt-echoed-7" not in text
    if kind is CredentialsRejected:
        assert text.startswith("src: refresh refused (") and text.endswith(". Fix `refresh_token`.")
    else:
        assert text.startswith("src: refresh failed (") and "Run again later" in text and "`refresh_token`" not in text


def test_an_auth_endpoint_that_cannot_be_reached_is_retried_then_unavailable():
    """No server at all: tried ``max_retries`` + 1 times, then "run again later" (no URL: a
    login's carries the password)."""
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/login?password=pw-in-url-77"
    config = {"max_retries": 2, "backoff_base_ms": 1, "request_timeout": 2}
    session = CountingSession()
    with pytest.raises(CredentialsUnavailable) as caught:
        auth_request(session, "GET", url, config, source="src", what="the login endpoint")
    assert str(caught.value) == "src: could not reach the login endpoint (ConnectionError); run again later."
    assert session.sent == 3


class CountingSession(requests.Session):
    sent = 0

    def send(self, request, **kwargs):
        self.sent += 1
        return super().send(request, **kwargs)


def test_error_message_never_echoes_a_secret_and_stays_short():
    register_secret("pw-echoed-back-5150")
    body = '{"message": "login failed for password=pw-echoed-back-5150,\\n   try again' + " x" * 500 + '"}'
    said = error_message(answered(401, body.encode()))
    assert "pw-echoed-back-5150" not in said and "password=***," in said
    assert "\n" not in said and "   " not in said and len(said) == 200
