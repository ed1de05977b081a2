"""The base of every bronze tap: secrets registered, log filter on, clean early stops."""

from __future__ import annotations

from singer_sdk import Tap

from bronze_core.http import SyncStopped
from bronze_core.redact import install_log_filter, register_config_secrets


class BronzeTap(Tap):
    """A singer-sdk Tap that keeps secrets out of its output and can stop early.

    ``secret_settings`` are registered as secrets as soon as the config is
    read, so no log line or error can carry them. ``stopped`` is set by a
    stream that hit a quota or the run's request budget: later streams are
    skipped, the state so far is written, and a quota stop exits non-zero.
    """

    secret_settings: tuple[str, ...] = ()
    stopped: SyncStopped | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        register_config_secrets(self.config, self.secret_settings)
        install_log_filter()

    def sync_all(self) -> None:
        super().sync_all()
        if self.stopped is not None and self.stopped.failed:
            raise SystemExit(f"{self.name}: {self.stopped}")
