"""The base of every bronze tap: secrets registered, log filter on, clean early stops."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
from collections import Counter
from functools import cached_property
from pathlib import Path

from singer_sdk import Tap
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.helpers._batch import BatchConfig

from bronze_core.batches import batch_notice, remove_stale
from bronze_core.fast_io import BronzeSingerWriter
from bronze_core.owner_only import claim, meltano_run_configs, protect_meltano_dirs, remove_leftover_configs
from bronze_core.pacing import RequestBudget, RequestThrottle, SyncStopped
from bronze_core.redact import install_log_filter, register_config_secrets
from bronze_core.settings import future_start, read_text_settings, secret_names, setting_errors


class BronzeTap(Tap):
    """A singer-sdk Tap that keeps secrets out of its output, paces itself and can stop early.

    Secret settings (marked ``secret`` in ``config_jsonschema``, plus any named
    in ``secret_settings``) are registered as secrets as soon as the config is
    read, so no log line or error can carry them. ``stopped`` is set by a
    stream that hit a quota or the run's request budget: later streams are
    skipped, the state so far is written, and a quota stop exits non-zero.
    """

    #: Secret settings beyond those marked ``secret`` in ``config_jsonschema`` (none so far).
    secret_settings: tuple[str, ...] = ()
    #: msgspec-encoded messages, stdout flushed per bookmark, not per record (bronze_core.fast_io).
    message_writer_class = BronzeSingerWriter
    #: The stream classes of the tap (taps with config-dependent streams override
    #: ``discover_streams`` instead).
    stream_types: tuple = ()
    stopped: SyncStopped | None = None
    #: Problems that did not stop the run but must not pass unnoticed (broken files,
    #: API streams that failed while the others went on).
    problems: list[str]
    #: Records per stream and validation status, filled by each stream's ``sync``.
    run_counts: dict[str, Counter]

    def __init_subclass__(cls, **kwargs):
        """Give the tap a settings schema of its own, completed with singer-sdk's built-in settings.

        singer-sdk adds its built-in settings (``stream_maps``, ``batch_config``,
        ...) to the class's ``config_jsonschema`` in place, the first time a tap
        is validated or described: the schema a process saw (our setting checks,
        anything reading the schema) depended on whether a tap had been made in it
        before. Completed here, once, it is the same from import on.
        """
        super().__init_subclass__(**kwargs)
        schema = {**cls.config_jsonschema, "properties": dict(cls.config_jsonschema.get("properties") or {})}
        cls.append_builtin_config(schema)
        cls.config_jsonschema = schema

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        register_config_secrets(self.config, secret_names(self.config_jsonschema, self.secret_settings))
        install_log_filter()
        self.problems = []
        self.run_counts = {}
        self._meltano_configs = self.protect_run_files()
        warning = future_start(self.config)
        if warning:
            self.logger.warning("%s: %s", self.name, warning)

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        """Every bad setting as one line naming it (``bronze_core.settings``), then singer-sdk's check.

        Numbers, lists and objects given as text (the environment, Meltano) are read first. The
        lines go out through singer-sdk's ``ConfigValidationError``: the CLI
        logs each and exits 1 before anything is read.
        """
        schema = self.config_jsonschema
        read_text_settings(self._config, schema)
        errors = setting_errors(self.name, self._config, schema, self.secret_settings)
        if errors and raise_errors:
            raise ConfigValidationError("Config validation failed", errors=errors, schema=schema)
        for error in errors:  # only asked to warn (discovery): say what, then go on as singer-sdk does
            self.logger.warning(error)
        sdk_errors = super()._validate_config(raise_errors=raise_errors)  # also fills in defaults
        return errors or sdk_errors

    def protect_run_files(self) -> list[Path]:
        """Under Meltano: ``.meltano/`` 0700, this run's config 0600 and claimed (bronze_core.owner_only).

        Returns this run's config files in Meltano's run folder.
        """
        root = os.environ.get("MELTANO_PROJECT_ROOT")
        if not root:
            return []
        configs = meltano_run_configs(Path(root))
        protect_meltano_dirs(Path(root), configs)
        for config in configs:
            try:
                claim(config)
            except OSError as exc:
                self.logger.warning("could not record the owner of %s: %s", config, exc)
        return configs

    def full_refresh_flag(self) -> str | None:
        """The environment variable asking for a full refresh, if one is set to true.

        ``FORCE_FULL_REFRESH`` for every tap, ``<SOURCE>_FULL_REFRESH`` (e.g.
        ``GARMIN_FULL_REFRESH``) for one: scheduled jobs can be told to start
        over without editing them. Same effect as ``meltano run --full-refresh``.
        """
        source = self.name.removeprefix("tap-").replace("-", "_").upper()
        for name in ("FORCE_FULL_REFRESH", f"{source}_FULL_REFRESH"):
            if os.environ.get(name, "").strip().lower() in ("1", "true", "yes"):
                return name
        return None

    def load_state(self, state) -> None:
        flag = self.full_refresh_flag()
        if flag and state:
            self.logger.warning("%s=true: ignoring the saved state, reading everything again", flag)
            state = {}
        super().load_state(state)

    @cached_property
    def request_budget(self) -> RequestBudget:
        """Requests this run may make (setting ``max_requests_per_run``; unlimited if absent)."""
        return RequestBudget(self.config.get("max_requests_per_run"))

    @cached_property
    def request_throttle(self) -> RequestThrottle:
        """Spacing of requests (setting ``requests_per_second``; none if absent)."""
        return RequestThrottle(self.config.get("requests_per_second"))

    def discover_streams(self):
        return [stream_type(tap=self) for stream_type in self.stream_types]

    @cached_property
    def plugin_name(self) -> str:
        """The Meltano plugin this process runs as (``MELTANO_EXTRACTOR_NAME``), else the tap's name.

        One executable can serve several plugins (``tap-garmin-export``
        inherits ``tap-garmin``); each has its own state, its own
        ``.meltano/run/<plugin>/`` and its own schedule, so the run lock and the
        batch files go by the plugin, never by the executable.
        """
        name = os.environ.get("MELTANO_EXTRACTOR_NAME", "").strip()
        if not name:
            return self.name
        if re.fullmatch(r"[A-Za-z0-9_.]+(-[A-Za-z0-9_.]+)*", name):
            return name  # safe in a file name, and no "--" (batch file names split there)
        return f"{self.name}-{hashlib.sha256(name.encode()).hexdigest()[:10]}"

    def run_lock(self) -> bool:
        """Refuse to run beside another run of the same plugin in the same Meltano project.

        Meltano refuses a second run of a pipeline that is already running,
        but two runs started in the same instant can both pass its check and
        then trip over each other's files in ``.meltano/run/<plugin>/``. This
        lock, taken before anything is read or written, makes the second one
        stop with a clear message instead. It is per plugin (``plugin_name``):
        ``tap-garmin-export`` runs beside ``tap-garmin``, same executable or
        not. It is released by the operating system when the process ends,
        however it ends (a kill included).

        Returns whether the lock is held (only under Meltano).
        """
        root = os.environ.get("MELTANO_PROJECT_ROOT")
        if not root:
            return False  # run by hand, outside Meltano: nothing shared to protect
        folder = Path(root) / ".meltano" / "run"
        folder.mkdir(parents=True, exist_ok=True)
        plugin = self.plugin_name
        path = folder / f"{plugin}.lock"
        self._run_lock = open(path, "a+")
        try:
            fcntl.flock(self._run_lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SystemExit(
                f"{plugin}: another run of {plugin} is already running in "
                f"this project (lock {path}); this run stops without reading or "
                "writing anything. Run it again when the other one has finished."
            ) from None
        return True

    def sync_all(self) -> None:  # type: ignore[misc]  # final in singer-sdk; extended on purpose
        """Sync every stream; then, with all state written, exit non-zero if anything went wrong.

        Under the run lock, batch files an earlier failed run left are removed
        first (``bronze_core.batches.remove_stale``), and so are the tap config
        files (they hold secrets) of killed runs (``bronze_core.owner_only``).
        """
        batch_config = self.config.get("batch_config")
        if self.run_lock():
            remove_leftover_configs(self._meltano_configs)
            if batch_config:
                remove_stale(BatchConfig.from_dict(batch_config), self.plugin_name)
        if batch_config:
            self.logger.info(batch_notice(BatchConfig.from_dict(batch_config), self.plugin_name))
        try:
            super().sync_all()
        finally:
            lock = getattr(self, "_run_lock", None)
            if lock is not None:
                lock.close()  # everything is written: the next run may start
            summary = self.run_summary()
            self.logger.info("%s", summary)
        if self.stopped is not None and self.stopped.failed:
            also = f"; also: {'; '.join(self.problems)}" if self.problems else ""
            raise SystemExit(f"{self.name}: {self.stopped}{also} ({summary})")
        if self.problems:
            raise SystemExit(f"{self.name}: everything else landed, but: " + "; ".join(self.problems) + f" ({summary})")

    #: Marks the run's summary line, so scripts/metrics.py can find it in Meltano's logs.
    SUMMARY_MARK = "BRONZE SUMMARY"

    def run_summary(self) -> str:
        """One line that closes every run: records sent, and how many are invalid or warned.

        It is the tap's last log line (also on failure, where the error that
        follows repeats it), so a run that landed invalid rows says so where
        the eye lands, and ``make status`` / ``make metrics`` can read it back
        from Meltano's log of the run. The JSON part is for machines.
        """
        total: Counter[str] = Counter()
        for counts in self.run_counts.values():
            total.update(counts)
        details = {
            name: {"records": sum(c.values()), "invalid": c["invalid"], "warning": c["warning"]}
            for name, c in sorted(self.run_counts.items())
        }
        flagged = ", ".join(
            f"{name}: {d['invalid']} invalid, {d['warning']} warning"
            for name, d in details.items()
            if d["invalid"] or d["warning"]
        )
        text = (
            f"{self.name}: {sum(total.values())} records sent, {total['invalid']} invalid, "
            f"{total['warning']} warning" + (f" ({flagged})" if flagged else "")
        )
        return f"{self.SUMMARY_MARK}: {text} {json.dumps({'streams': details}, sort_keys=True)}"
