"""`make report` (scripts/report.py): the page a person opens, checked in a real browser.

Bronze rows come from real `meltano run`s (Fitabase CSVs shaped like the real export,
one malformed row among them; the fake Garmin API), the marts from a real dbt run
through Meltano; the page is rendered by headless Chromium (tests/browser.py), which
must see no console error and no failed or remote request, and every chart drawn.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import tap_runner
from tests.browser import Browser, chromium
from tests.fakes.fitabase_export import write_drop
from tests.fakes.garmin_api import FakeGarmin

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import report  # noqa: E402

NO_BROWSER = "chromium is not installed (Debian: apt-get install chromium), so the report was not rendered"

# What the page must tell about every <img class=chart>: drawn (decoded, a size) and not blank
# (distinct colours counted on a canvas copy).
CHARTS_JS = """
[...document.querySelectorAll('img.chart')].map(img => {
  const canvas = document.createElement('canvas');
  canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
  const ctx = canvas.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const data = img.naturalWidth ? ctx.getImageData(0, 0, canvas.width, canvas.height).data : [];
  const colours = new Set();
  for (let i = 0; i < data.length && colours.size < 50; i += 4 * 97)
    colours.add(data[i] + ',' + data[i+1] + ',' + data[i+2]);
  return {alt: img.alt, complete: img.complete, width: img.naturalWidth, height: img.naturalHeight,
          shown: img.getBoundingClientRect().width, colours: colours.size};
})
"""


def write_report(env: dict, output: Path) -> subprocess.CompletedProcess:
    """`scripts/report.py --output <output>` on the test's databases, under the usual umask 022;
    the page (health data) and a folder it creates must still be owner-only."""
    old = os.umask(0o022)
    try:
        done = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "report.py"), "--output", str(output)],
            cwd=ROOT,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
    finally:
        os.umask(old)
    assert output.stat().st_mode & 0o077 == 0 and output.parent.stat().st_mode & 0o077 == 0
    return done


def render(browser: Browser, page: Path) -> tuple[list[dict], list[str], list[str]]:
    """Open a page; its charts, its problems (console errors, failed requests) and the URLs it asked for."""
    since = browser.mark()
    browser.open(page.as_uri())
    return browser.evaluate(CHARTS_JS), browser.problems(since), browser.requested(since)


def test_the_browser_check_catches_errors_and_failed_requests(tmp_path):
    """The harness itself can fail: a console error and a missing image are reported."""
    binary = chromium() or pytest.skip(NO_BROWSER)
    page = tmp_path / "broken.html"
    page.write_text("<html><body><img class='chart' src='gone.png'><script>console.error('drawn wrong')</script>")
    with Browser(binary, tmp_path / "profile") as browser:
        charts, problems, _ = render(browser, page)
    assert charts[0]["width"] == 0
    assert any("drawn wrong" in p for p in problems)
    assert any("ERR_FILE_NOT_FOUND" in p for p in problems)


def test_report_of_real_loads_renders_in_chromium(meltano, tmp_path):
    """Fitabase and Garmin loaded, marts built: the page shows status's verdicts, every chart
    draws in Chromium with no error and nothing fetched, and what no source gave is named."""
    binary = chromium() or pytest.skip(NO_BROWSER)
    drop = tmp_path / "drop"
    write_drop(drop, people=3, days=20)
    (daily,) = drop.rglob("dailyActivity_merged.csv")
    someone = daily.read_text().splitlines()[1].split(",")[0]
    with open(daily, "a", newline="") as handle:  # a malformed row: an invalid row landed today
        handle.write(f"{someone},5/30/2016,12O45,1,1,0,0,0,0,0,1,1,1,1,1\r\n")
    with FakeGarmin(days=10) as fake:
        env = {
            "TAP_WEARABLE_CSV_DATA_DIR": str(drop),
            **tap_runner.meltano_env("tap-garmin", tap_runner.garmin_config(fake)),
        }
        meltano.run(
            "run",
            "tap-wearable-csv",
            "target-postgres",
            "tap-garmin",
            "target-postgres",
            "dbt-postgres:run",
            extra_env=env,
            timeout=600,
        )
    page = tmp_path / "reports" / "report.html"
    printed = write_report(meltano.env, page).stdout
    html = page.read_text(encoding="utf-8")

    # Freshness as `make status` decides it (its JSON, from the same databases).
    rows = json.loads(
        subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "status.py"), "--format", "json"],
            cwd=ROOT,
            env={**os.environ, **meltano.env},
            capture_output=True,
            text=True,
            check=False,
        ).stdout
    )
    verdicts = {(r["pipeline"], r["table_name"]): r["verdict"] for r in rows}
    assert verdicts[("tap-wearable-csv", "wearable__daily_activity")] == "warning"  # the malformed row
    assert verdicts[("tap-garmin", "garmin__daily_summary")] == "fresh"
    for (pipeline, table), verdict in verdicts.items():
        if table:
            assert f"{table}: {verdict}," in html, (pipeline, table)
    assert "<td><span class='verdict warning'>warning</span>" in html  # tap-wearable-csv's worst
    today = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    assert today in html  # last success, just now

    with Browser(binary, tmp_path / "profile") as browser:
        charts, problems, requested = render(browser, page)
        browser.screenshot(tmp_path / "report.png")
    assert problems == []
    # Charts are inline data: URIs: the page asks for nothing else, nothing remote.
    assert [url for url in requested if not url.startswith("data:image/png;base64,")] == [page.as_uri()]
    titles = [c["alt"] for c in charts]
    assert titles == [
        "Time since each pipeline's last success",
        f"Rows landed per day per source, last {report.WINDOW_DAYS} days",
        f"Invalid and warning rows per day, last {report.WINDOW_DAYS} days",
        "Steps",
        "Sleep",
        "Resting heart rate",
        "Heart rate variability",
        "Fitabase participants: steps against baseline",
    ]
    for chart in charts:
        assert chart["complete"] and chart["width"] > 300 and chart["height"] > 120, chart
        assert chart["colours"] >= 5, chart  # drawn, not a blank canvas
        assert 0 < chart["shown"] <= 1366, chart  # fits a laptop's width
    assert f"report written to {page} ({len(charts)} charts)" in printed
    for absent in ("Weight", "Water", "Temperature at home", "Time tracked"):  # no such source loaded
        assert f"<li>{absent}: no source gave a value" in html
    assert (tmp_path / "report.png").stat().st_size > 20_000


def test_report_of_an_empty_database_says_what_is_missing(fresh_db, tmp_path):
    """No bronze table, no mart, no run: the page is still written and names each missing part."""
    page = tmp_path / "reports" / "report.html"
    env = {"DATABASE_URL": fresh_db, "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}"}
    for name in list(os.environ):  # no source configured from the caller's environment
        if name.startswith("TAP_"):
            env[name] = ""
    printed = write_report(env, page).stdout
    html = page.read_text(encoding="utf-8")
    assert "<img" not in html
    for missing in (
        "No bronze tables yet",
        "mart.daily_health does not exist",
        "mart.user_activity_deviation does not exist",
    ):
        assert missing in html and missing in printed
    if binary := chromium():
        with Browser(binary, tmp_path / "profile") as browser:
            charts, problems, requested = render(browser, page)
        assert (charts, problems, requested) == ([], [], [page.as_uri()])


def test_rolling_mean_is_over_calendar_days_and_skips_days_without_a_value():
    days = [dt.date(2026, 1, 1) + dt.timedelta(days=n) for n in range(10)]
    values = [1.0, 2.0, None, 4.0, None, None, None, None, None, 10.0]
    means = report.rolling_mean(days, values, width=7)
    assert means[:4] == [1.0, 1.5, 1.5, 7 / 3]
    assert means[6] == 7 / 3  # 1 Jan .. 7 Jan
    assert means[7] == 3.0  # 2 Jan .. 8 Jan: 2 and 4
    assert means[8] == 4.0  # 3 Jan .. 9 Jan: only 4
    assert means[9] == 7.0  # 4 Jan .. 10 Jan: 4 and 10
