"""Files that hold personal data or secrets stay readable by their owner only.

Why: batch files carry every record of a backfill, Meltano's per-run tap
config (``.meltano/run/<plugin>/tap.<uuid>.config.json``) carries passwords,
and Meltano writes them with the caller's umask (0644 under the usual 022).
So the project's own writers create their files 0600 whatever the umask, a
bronze tap started by Meltano makes ``.meltano/`` 0700 and its own config
0600, and the config files of killed runs (Meltano deletes a run's config
only when the run ends normally) are removed by the next run of the plugin.

A run's config is known to be left over only when the Meltano process that
wrote it is gone: each bronze tap records its parent (the ``meltano``
process) next to its config (``<config>.owner``). A config whose owner is
dead is removed; one with no owner file is removed only once it is older
than ``UNCLAIMED_SECONDS`` (its run died before the tap started; a live run
starts its tap within seconds). A live run's config is never touched, even a
concurrent run of the same plugin in another environment, or one whose tap
has finished while its loader still runs (Meltano deletes the config then).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

logger = logging.getLogger(__name__)

FILE_MODE = 0o600
DIR_MODE = 0o700
CONFIG_GLOB = "tap.*.config.json"
OWNER_SUFFIX = ".owner"
UNCLAIMED_SECONDS = 3600


def open_private(path: Path, mode: str = "wb") -> IO:
    """Open ``path`` for writing, created (or truncated) with mode 0600 whatever the umask."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    fd = os.open(path, flags, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)  # a file that existed keeps its mode otherwise
        return os.fdopen(fd, mode)
    except BaseException:
        os.close(fd)
        raise


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) 0700 if missing; an existing folder is left as it is."""
    if not path.is_dir():
        path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    return path


def config_paths(argv: Sequence[str] | None = None) -> list[Path]:
    """The ``--config`` files given on the command line (Meltano passes one per run)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    found = []
    for index, arg in enumerate(argv):
        if arg == "--config" and index + 1 < len(argv):
            found.append(argv[index + 1])
        elif arg.startswith("--config="):
            found.append(arg.split("=", 1)[1])
    return [Path(value) for value in found if value != "ENV"]


def meltano_run_configs(root: Path, argv: Sequence[str] | None = None) -> list[Path]:
    """This run's config files that Meltano wrote into ``<root>/.meltano/run/<plugin>/``."""
    run_dir = (root / ".meltano" / "run").resolve()
    return [
        path
        for path in (p.resolve() for p in config_paths(argv))
        if path.parent.parent == run_dir and path.match(CONFIG_GLOB)
    ]


def protect_meltano_dirs(root: Path, configs: list[Path]) -> None:
    """``.meltano/`` 0700 and this run's config 0600, for projects whose files predate umask 077."""
    for path, mode in ((root / ".meltano", DIR_MODE), *((c, FILE_MODE) for c in configs)):
        try:
            os.chmod(path, mode)
        except OSError as exc:  # not ours to change: say so, do not stop the run
            logger.warning("could not make %s owner-only: %s", path, exc)


def _start_time(pid: int) -> str | None:
    """The start time of process ``pid`` (clock ticks since boot), or None if it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def claim(config: Path) -> None:
    """Record that the Meltano process running this tap owns ``config``."""
    owner = os.getppid()
    with open_private(config.with_name(config.name + OWNER_SUFFIX), "w") as out:
        out.write(f"{owner} {_start_time(owner)}\n")


def _left_over(config: Path, now: float) -> bool:
    """Whether ``config`` belongs to a run that is gone (see the module docstring)."""
    try:
        pid, started = config.with_name(config.name + OWNER_SUFFIX).read_text().split()
    except FileNotFoundError:
        try:
            return now - config.stat().st_mtime > UNCLAIMED_SECONDS
        except FileNotFoundError:
            return False
    except (OSError, ValueError):
        return False
    return _start_time(int(pid)) != started


def remove_leftover_configs(current: list[Path]) -> int:
    """Delete the config files (and owner files) of dead runs of the same plugin as ``current``.

    Only siblings of this run's own config, in that plugin's run folder, are
    looked at; this run's config is never removed. Run under the tap's run lock.
    """
    if not Path("/proc/self/stat").exists():  # no way to tell a dead run from a live one
        return 0
    removed = 0
    now = time.time()
    for folder in {path.parent for path in current}:
        for config in folder.glob(CONFIG_GLOB):
            if config in current or not _left_over(config, now):
                continue
            try:
                config.unlink()
                removed += 1
            except OSError as exc:
                logger.warning("could not remove the left-over tap config %s: %s", config, exc)
                continue
            config.with_name(config.name + OWNER_SUFFIX).unlink(missing_ok=True)
        for owner in folder.glob(CONFIG_GLOB + OWNER_SUFFIX):  # runs that ended normally
            if not owner.with_name(owner.name.removesuffix(OWNER_SUFFIX)).exists():
                owner.unlink(missing_ok=True)
    if removed:
        logger.info(
            "removed %d tap config file(s) (they hold secrets) that killed runs left in %s",
            removed,
            ", ".join(sorted(str(f) for f in {p.parent for p in current})),
        )
    return removed
