"""The docs must stay true: settings tables are what the taps say, commands and links exist.

- Each tap package's README (``taps/tap-x/README.md``) holds the settings table
  its tap prints with ``--about``, less singer-sdk's generic settings
  (``scripts/tap_readme.py``; ``make docs`` rewrites it).
- README.md stays short enough to read.
- Every ``make <target>`` the docs mention is a target of the Makefile, and
  every relative link in them leads to a file (and heading) that exists.

Each check is a function of the text, and ``test_the_checks_catch_*`` feed it
a broken text, so none of them can pass by checking nothing.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import tap_readme  # noqa: E402

README_MAX_LINES = 250
PACKAGES = tap_readme.packages()
#: Settings singer-sdk gives every tap (seen in `tap-x --about`); none of them in a tap README.
SDK_GENERIC = {
    "stream_maps",
    "stream_map_config",
    "faker_config",
    "flattening_enabled",
    "flattening_max_depth",
    "flattening_max_key_length",
    "flattening_separator",
    "batch_config",
}


def docs() -> list[Path]:
    """The Markdown a reader is pointed at: README.md, docs/, the tap READMEs."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *(package / "README.md" for package in PACKAGES)]


# --- the checks, as functions of the text --------------------------------------------------
def makefile_targets(makefile: str) -> set[str]:
    return set(re.findall(r"^([A-Za-z0-9_-]+)\s*:(?!=)", makefile, re.MULTILINE))


def code(text: str) -> str:
    """The code of a Markdown text: fenced blocks and `spans` (prose may say "make sure")."""
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    spans = re.findall(r"`([^`\n]+)`", re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL))
    return "\n".join(blocks + spans)


def unknown_make_targets(text: str, targets: set[str]) -> list[str]:
    """``make <target>`` mentions (in code spans or blocks) that the Makefile lacks."""
    mentioned = re.findall(r"(?<![\w-])make[ \t]+(?:-s[ \t]+)?([a-z][a-z0-9_-]*)", code(text))
    return sorted({target for target in mentioned if target not in targets})


def heading_anchors(markdown: str) -> set[str]:
    """GitHub's anchors for a page's headings (lower case, punctuation dropped, spaces as -)."""
    anchors = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*$", markdown, re.MULTILINE):
        text = re.sub(r"[`*]", "", heading).strip().lower()
        anchors.add(re.sub(r"\s", "-", re.sub(r"[^\w\- ]", "", text)))
    return anchors


def broken_links(page: Path, text: str) -> list[str]:
    """Relative links of ``page`` whose file, or heading in a Markdown file, does not exist."""
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("//"):
            continue  # http:, https:, mailto:
        path_part, _, anchor = target.partition("#")
        linked = (page.parent / path_part).resolve() if path_part else page
        if not linked.exists() or (
            anchor and linked.suffix == ".md" and anchor not in heading_anchors(linked.read_text(encoding="utf-8"))
        ):
            broken.append(target)
    return broken


def table_rows(block: str) -> list[str]:
    return [line for line in block.splitlines() if line.startswith("| ") and not line.startswith("| Setting")]


# --- the tap READMEs ----------------------------------------------------------------------
def test_registry_names_every_tap_package():
    """The READMEs checked below are those of every tap package (sources.yml's ``package``)."""
    assert sorted(p.name for p in PACKAGES) == sorted(
        p.name for p in (ROOT / "taps").glob("tap-*") if (p / "pyproject.toml").exists()
    )


@pytest.mark.parametrize("package", PACKAGES, ids=[p.name for p in PACKAGES])
def test_tap_readme_settings_table_is_what_the_tap_says(package):
    readme = (package / "README.md").read_text(encoding="utf-8")
    block = tap_readme.current_block(readme)
    assert block is not None, f"{package.name}/README.md has no generated settings table: run `make docs`"
    assert block == tap_readme.block(tap_readme.executable(package)), (
        f"{package.name}/README.md's settings table is stale: run `make docs`"
    )


@pytest.mark.parametrize("package", PACKAGES, ids=[p.name for p in PACKAGES])
def test_tap_readme_lists_the_settings_meltano_offers_and_no_sdk_generic_one(package):
    """Cross-check against meltano.yml, written by hand: every setting a plugin of this package
    declares there is in the table, unless it is one singer-sdk gives every tap."""
    plugins = yaml.safe_load((ROOT / "meltano.yml").read_text(encoding="utf-8"))["plugins"]["extractors"]
    declared = {
        setting["name"]
        for plugin in plugins
        if plugin.get("executable") == package.name
        for setting in plugin.get("settings", [])
    }
    assert declared, f"no plugin in meltano.yml runs {package.name}"
    listed = {
        tap_readme.row_setting(row)
        for row in table_rows(tap_readme.current_block((package / "README.md").read_text(encoding="utf-8")) or "")
    }
    assert declared - SDK_GENERIC <= listed, f"missing from the table: {sorted(declared - SDK_GENERIC - listed)}"
    assert not listed & SDK_GENERIC, f"generic singer-sdk settings in the table: {sorted(listed & SDK_GENERIC)}"


def test_the_generator_drops_exactly_what_singer_sdk_adds():
    """The rows left out are the SDK's own (asked of singer-sdk), and all of them are in --about."""
    about = tap_readme.about_markdown("tap-manual")
    generic = tap_readme.sdk_settings("tap-manual")
    assert generic == SDK_GENERIC
    kept = {tap_readme.row_setting(row) for row in table_rows(tap_readme.settings_table(about, generic))}
    assert kept == {"manual_dir", "timezone", "follow_symlinks"}
    assert {
        tap_readme.row_setting(row) for row in table_rows("\n".join(tap_readme.settings_rows(about)))
    } == kept | SDK_GENERIC


def test_make_docs_check_fails_on_a_stale_table(tmp_path):
    """``--check`` (what `make docs` keeps true) exits 1 naming the README, and --write fixes it."""
    package = ROOT / "taps/tap-manual"
    readme = package / "README.md"
    original = readme.read_text(encoding="utf-8")
    stale = original.replace("| False |", "| True |", 1)
    assert stale != original
    readme.write_text(stale, encoding="utf-8")
    try:
        check = subprocess.run(
            [sys.executable, str(ROOT / "scripts/tap_readme.py"), "--check", str(package)],
            capture_output=True,
            text=True,
        )
        assert check.returncode == 1 and readme.relative_to(ROOT).as_posix() in check.stderr
        subprocess.run(
            [sys.executable, str(ROOT / "scripts/tap_readme.py"), "--write", str(package)],
            check=True,
            capture_output=True,
        )
        assert readme.read_text(encoding="utf-8") == original
    finally:
        readme.write_text(original, encoding="utf-8")


# --- README.md and docs/ ------------------------------------------------------------------
def test_readme_is_short():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines < README_MAX_LINES, f"README.md has {lines} lines; move detail to docs/ or a tap README"


def test_every_make_target_mentioned_exists():
    targets = makefile_targets((ROOT / "Makefile").read_text(encoding="utf-8"))
    unknown = {
        page.relative_to(ROOT).as_posix(): unknown_make_targets(page.read_text(encoding="utf-8"), targets)
        for page in docs()
    }
    assert not {page: found for page, found in unknown.items() if found}


def test_every_relative_link_resolves():
    broken = {
        page.relative_to(ROOT).as_posix(): broken_links(page, page.read_text(encoding="utf-8")) for page in docs()
    }
    assert not {page: found for page, found in broken.items() if found}


def test_readme_points_at_every_tap_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [p.name for p in PACKAGES if f"(taps/{p.name}/README.md)" not in readme]
    assert not missing, f"README.md's sources table does not link these tap READMEs: {missing}"


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci/run").read_text()
    assert "make test" in (ROOT / "README.md").read_text()


# --- each check can fail ------------------------------------------------------------------
def test_the_checks_catch_an_unknown_make_target():
    targets = makefile_targets("up: install ## start\n\t$(BIN)/x\nVAR := 1\n")
    assert targets == {"up"}
    text = (
        "`make up`, then `make upp`, make sure, every `make` target and `umask 077`, and\n"
        "```sh\nmake up\n(crontab -l; make -s crontab)\n```\n"
    )
    assert unknown_make_targets(text, targets) == ["crontab", "upp"]


def test_the_checks_catch_a_broken_link(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# Some title\n\n## The `x` part, briefly\n")
    page = tmp_path / "README.md"
    text = (
        "[ok](docs/a.md) [ok](docs/a.md#the-x-part-briefly) [web](https://example.com) "
        "[gone](docs/b.md) [bad anchor](docs/a.md#nothing) [self](#some-title)"
    )
    page.write_text(text)
    assert broken_links(page, text) == ["docs/b.md", "docs/a.md#nothing", "#some-title"]
