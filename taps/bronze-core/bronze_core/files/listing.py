"""Finding the files to read below an export root: a folder, a zip, or one bare file.

Files are matched by pattern anywhere below the root, because exports nest
their folders under names that vary (a UUID folder, an account id). A bare
file (an ``export.xml`` handed over on its own) is its own root. Symbolic
links are not followed out of the folder (a link in a drop folder to a file
elsewhere on the machine would land that file in bronze): links that leave it
are skipped and named, unless ``follow_symlinks`` is set; links that stay
inside are followed, and a file reached twice is read once.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import IO

from bronze_core.files.source import FileFormatError, SourceFile, matches
from bronze_core.files.zips import NOT_A_ZIP, damaged_zip, nested_zip_members, salvaged_members, zip_members


def list_files(
    root: str | Path,
    patterns: Sequence[str],
    *,
    nested_zips: bool = False,
    problems: list[FileFormatError] | None = None,
    follow_symlinks: bool = False,
    skipped: list[str] | None = None,
) -> list[SourceFile]:
    """Files below ``root`` (a folder or a .zip) whose relative path matches a pattern.

    Patterns are ``fnmatch`` patterns on the "/"-separated relative path, where
    ``*`` also crosses folders: ``*DI-Connect-Wellness/*_sleepData.json``.
    Sorted by relative path so runs read files in the same order.

    With ``nested_zips``, zips dropped in a folder are searched too (their
    members' relative paths read ``sub/export.zip!/member``); a broken one is
    added to ``problems`` (or raised when no list is given) and the rest is
    still listed. So is a sub-folder that cannot be read.

    Symbolic links (to files or folders) are followed only while they stay
    inside ``root``, unless ``follow_symlinks``; each one skipped is described
    in ``skipped`` (its path and where it points, never what it holds). A file
    reached by several paths is listed once, under its real path if that
    matches.
    """
    root = Path(root).expanduser()
    if not root.exists():
        raise FileNotFoundError(f"export not found: {root}")
    if root.is_file():
        if zipfile.is_zipfile(root):
            return zip_members(root, patterns)
        if damaged_zip(root):
            return salvaged_members(root, patterns)
        if matches(root.name, patterns):  # the wanted file itself, e.g. a bare export.xml
            return [SourceFile(root.name, str(root.parent), root.stat().st_size, partial(_open_named, root))]
        raise FileFormatError(str(root), None, NOT_A_ZIP)
    found, seen = [], set()
    for relative, path in _walk(root, follow_symlinks, problems, skipped):
        if nested_zips and path.suffix.lower() == ".zip":
            if path not in seen:
                seen.add(path)
                found.extend(nested_zip_members(root, path, relative, patterns, problems))
        elif matches(relative, patterns) and path not in seen:
            seen.add(path)
            found.append(SourceFile(relative, str(root), path.stat().st_size, partial(_open_no_follow, path), path))
    return sorted(found, key=lambda f: f.relative_path)


def _walk(
    root: Path, follow_symlinks: bool, problems: list[FileFormatError] | None, skipped: list[str] | None
) -> Iterator[tuple[str, Path]]:
    """``(relative path, real path)`` of every file below ``root``, links last.

    The real tree is walked first without following any link, so a file's
    own path wins over a link to it; then the links, each resolved once (a
    link to a folder already walked, or a loop, adds nothing). A link whose
    target lies outside ``root`` is skipped unless ``follow_symlinks``.
    """
    real_root = root.resolve()
    walked: set[Path] = {real_root}
    links: list[tuple[str, Path]] = []
    folders: list[tuple[str, Path]] = [("", real_root)]
    while folders or links:
        if not folders:  # the real tree is done: follow the next link
            relative, link = links.pop(0)
            target = Path(os.path.realpath(link))
            if not (_inside(target, real_root) or follow_symlinks):
                if skipped is not None:
                    skipped.append(f"{link} (a link to {target}, outside {root}; set follow_symlinks to read it)")
                continue
            if target.is_file():
                yield relative, target
            elif target.is_dir() and target not in walked:
                walked.add(target)
                folders.append((relative + "/", target))
            continue
        prefix, folder = folders.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError as exc:
            error = FileFormatError(str(folder), None, f"folder cannot be read ({exc.strerror})")
            if problems is None:
                raise error from None
            problems.append(error)
            continue
        for entry in entries:
            relative = prefix + entry.name
            if entry.is_symlink():
                links.append((relative, Path(entry.path)))
            elif entry.is_dir(follow_symlinks=False):
                walked.add(Path(entry.path))
                folders.append((relative + "/", Path(entry.path)))
            elif entry.is_file(follow_symlinks=False):
                yield relative, Path(entry.path)


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _open_named(path: Path) -> IO[bytes]:
    """Open the file the setting names itself (a link there is the user's choice, so followed)."""
    return open(path, "rb")


def _open_no_follow(path: Path) -> IO[bytes]:
    """Open a listed file, refusing a link put in its place since it was listed."""
    return os.fdopen(os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)), "rb")
