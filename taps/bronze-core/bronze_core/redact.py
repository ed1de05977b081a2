"""Keep secrets out of logs, exceptions, state and bronze metadata.

Two defences, because neither alone is enough:

- query parameters whose *name* says they are secret are masked wherever a
  parameter dict is logged or stored (``redact_params``);
- every secret *value* a tap was configured with is registered once
  (``register_secret``) and scrubbed from any text we log or raise
  (``scrub``), and from every log line through ``SecretFilter``.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "***"
_SECRET_NAME = re.compile(r"pass|secret|token|key|auth|session|signature|credential", re.IGNORECASE)
_MIN_SECRET_LEN = 4  # shorter values would mask ordinary words

_secrets: set[str] = set()
_lock = threading.Lock()


def is_secret_name(name: str) -> bool:
    """True for parameter or setting names that carry credentials."""
    return bool(_SECRET_NAME.search(name))


def register_secret(value: Any) -> None:
    """Remember a secret value so ``scrub`` and the log filter mask it."""
    if isinstance(value, str) and len(value) >= _MIN_SECRET_LEN:
        with _lock:
            _secrets.add(value)


def register_config_secrets(config: Mapping[str, Any], names: Iterable[str]) -> None:
    """Register the values of the given secret settings of a tap's config."""
    for name in names:
        register_secret(config.get(name))


def scrub(text: Any) -> str:
    """``text`` with every registered secret value replaced by ``***``."""
    result = str(text)
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in result:
            result = result.replace(secret, MASK)
    return result


def redact_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Query parameters with secret-named values masked, others kept."""
    return {k: (MASK if is_secret_name(k) else v) for k, v in params.items()}


class SecretFilter(logging.Filter):
    """Masks registered secret values in every record passing a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _secrets:
            message = record.getMessage()
            cleaned = scrub(message)
            if cleaned != message:
                record.msg, record.args = cleaned, None
        return True


def install_log_filter() -> None:
    """Attach ``SecretFilter`` to every handler of the root logger (idempotent)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, SecretFilter) for f in handler.filters):
            handler.addFilter(SecretFilter())
