"""`make report`: one self-contained HTML page of freshness, landings and daily health.

The page (``reports/index.html`` by default, ``--output`` to change it) holds:

- freshness per pipeline: last success, last failure and the verdict, exactly as
  `make status` (scripts/status.py) decides them;
- rows landed per day per source, and invalid and warning rows per day, over the
  last 90 days (``ingested_at``, UTC days), so a source that stopped shows as a gap
  and one that started failing validation as a spike;
- trends from ``mart.daily_health`` over its newest 90 days, each with a 7-day
  rolling mean;
- Fitabase participants' steps against their baseline (``mart.user_activity_deviation``).

Charts are matplotlib PNGs embedded as ``data:`` URIs: the file opens offline, in
any browser, with no JavaScript and nothing fetched. Whatever is missing (no
bronze tables, no marts, a metric no source gives) is said on the page instead of
failing, so the report also works on a database that is empty.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import html
import io
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from psycopg import sql

from bronze_core.owner_only import open_private, private_dir

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import dbctl  # noqa: E402
import status  # noqa: E402

DEFAULT_OUTPUT = ROOT / "reports" / "index.html"
WINDOW_DAYS = 90
ROLLING_DAYS = 7
MAX_PARTICIPANTS = 12  # small multiples beyond this stop reading well at a laptop's width
UTC = dt.UTC
#: Worst first: a pipeline's verdict is the worst of its tables'.
SEVERITY = ("failed", "never", "stale", "warning", "fresh")


@dataclass(frozen=True)
class Series:
    sql: str  # an expression over mart.daily_health's columns
    label: str
    columns: tuple[str, ...]  # the columns it needs


@dataclass(frozen=True)
class Trend:
    title: str
    unit: str
    series: tuple[Series, ...]


TRENDS = (
    Trend("Steps", "steps per day", (Series("steps", "steps", ("steps",)),)),
    Trend(
        "Sleep",
        "hours per night",
        (
            Series("sleep_minutes / 60.0", "total", ("sleep_minutes",)),
            Series("deep_sleep_minutes / 60.0", "deep", ("deep_sleep_minutes",)),
            Series("rem_sleep_minutes / 60.0", "REM", ("rem_sleep_minutes",)),
        ),
    ),
    Trend(
        "Resting heart rate", "beats per minute", (Series("resting_heart_rate", "resting HR", ("resting_heart_rate",)),)
    ),
    Trend("Heart rate variability", "ms (overnight average)", (Series("hrv_ms", "HRV", ("hrv_ms",)),)),
    Trend("Weight", "kg", (Series("weight_kg", "weight", ("weight_kg",)),)),
    Trend("Water", "litres per day", (Series("water_ml / 1000.0", "water", ("water_ml",)),)),
    Trend(
        "Temperature at home",
        "°C",
        (
            Series("temperature_max_c", "daily max", ("temperature_max_c",)),
            Series("temperature_min_c", "daily min", ("temperature_min_c",)),
        ),
    ),
    Trend("Time tracked", "hours per day", (Series("hours_tracked", "hours", ("hours_tracked",)),)),
)


@dataclass
class Report:
    """What the page shows; each section may be empty, ``missing`` says why."""

    generated_at: dt.datetime
    database: str
    pipelines: list[dict] = field(default_factory=list)
    charts: list[tuple[str, str, str]] = field(default_factory=list)  # (section, title, PNG data URI)
    missing: list[str] = field(default_factory=list)


# --- reading -------------------------------------------------------------------------


def pipeline_freshness(rows: list[dict], runs: dict[str, list[dict]]) -> list[dict]:
    """One row per pipeline from `make status`'s table rows: its worst verdict, last success and failure."""
    out: dict[str, dict] = {}
    for row in rows:
        tap = row["pipeline"]
        entry = out.setdefault(
            tap,
            {
                "pipeline": tap,
                "tables": [],
                "verdict": row["verdict"],
                "last_success_at": row["last_success_at"],
                "last_failure_at": last_failure(status.finished_runs(tap, runs)),
                "expected_hours": row["expected_hours"],
            },
        )
        if row["table_name"]:
            entry["tables"].append((row["table_name"], row["verdict"], row["row_count"], row["open_invalid_count"]))
        if SEVERITY.index(row["verdict"]) < SEVERITY.index(entry["verdict"]):
            entry["verdict"] = row["verdict"]
    return sorted(out.values(), key=lambda e: (SEVERITY.index(e["verdict"]), e["pipeline"]))


def last_failure(history: list[dict]) -> dt.datetime | None:
    """When the newest failed (or dead) run of a pipeline's finished runs ended."""
    for run in history:
        if run["state"] != status.SUCCESS:
            return run["ended_at"] or run["started_at"]
    return None


def landings(conn, tables: list[str], since: dt.date) -> dict[tuple[str, dt.date, str], int]:
    """{(source, UTC day of ingested_at, validation_status): rows} since ``since``, over every bronze table."""
    counts: dict[tuple[str, dt.date, str], int] = {}
    for table in tables:
        query = sql.SQL(
            "SELECT (ingested_at AT TIME ZONE 'UTC')::date, validation_status, count(*) FROM bronze.{} "
            "WHERE ingested_at >= %s GROUP BY 1, 2"
        ).format(sql.Identifier(table))
        source = table.partition("__")[0]
        for day, state, rows in conn.execute(query, (dt.datetime.combine(since, dt.time(), UTC),)):
            key = (source, day, state)
            counts[key] = counts.get(key, 0) + rows
    return counts


def relation_columns(conn, schema: str, name: str) -> set[str]:
    """The columns of a table or view (empty when it does not exist)."""
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
        (schema, name),
    ).fetchall()
    return {r[0] for r in rows}


def rolling_mean(days: list[dt.date], values: list[float | None], width: int = ROLLING_DAYS) -> list[float | None]:
    """The mean of the values of the ``width`` calendar days ending on each day (days without a value skipped)."""
    known = {d: v for d, v in zip(days, values) if v is not None}
    out: list[float | None] = []
    for day in days:
        window = [known[d] for d in (day - dt.timedelta(days=n) for n in range(width)) if d in known]
        out.append(sum(window) / len(window) if window else None)
    return out


# --- drawing -------------------------------------------------------------------------


def _pyplot():
    import matplotlib as mpl

    mpl.use("Agg")  # no display; PNGs only
    import matplotlib.pyplot as plt

    plt.rcParams.update({"figure.dpi": 100, "axes.grid": True, "grid.alpha": 0.3, "font.size": 9})
    return plt


def png(fig) -> str:
    """A figure as a ``data:image/png;base64`` URI (and closed)."""
    plt = _pyplot()
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _date_axis(ax, start: dt.date, end: dt.date) -> None:
    import matplotlib.dates as mdates

    ax.set_xlim(start - dt.timedelta(days=0.5), end + dt.timedelta(days=0.5))
    # Whole days: a span of a few days would otherwise be ticked in hours.
    locator = mdates.DayLocator() if (end - start).days < 7 else mdates.AutoDateLocator(maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def freshness_chart(entries: list[dict], now: dt.datetime) -> str | None:
    """Hours since each pipeline's last success against its expected interval (bars, log scale)."""
    timed = [e for e in entries if e["last_success_at"]]
    if not timed:
        return None
    plt = _pyplot()
    colours = {"fresh": "#2e7d32", "warning": "#f9a825", "stale": "#ef6c00", "failed": "#c62828", "never": "#757575"}
    fig, ax = plt.subplots(figsize=(10, 1.4 + 0.3 * len(timed)))
    names = [e["pipeline"] for e in timed]
    ages = [max((now - e["last_success_at"]).total_seconds() / 3600, 0.01) for e in timed]
    ax.barh(names, ages, color=[colours[e["verdict"]] for e in timed])
    ax.scatter([e["expected_hours"] for e in timed], names, marker="|", s=300, color="black", label="expected interval")
    ax.set_xscale("log")
    ax.invert_yaxis()
    ax.set_xlabel("hours since the last successful run (log scale)")
    ax.set_title("Freshness: time since each pipeline's last success (bar colour = verdict)")
    ax.legend(loc="lower right")
    return png(fig)


def landing_charts(counts: dict, start: dt.date, end: dt.date) -> list[tuple[str, str]]:
    """A heatmap of rows landed per day per source, and stacked bars of invalid and warning rows per day."""
    import numpy as np
    from matplotlib.colors import LogNorm
    from matplotlib.ticker import MaxNLocator

    plt = _pyplot()
    days = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    sources = sorted({source for source, _, _ in counts})
    grid = np.zeros((len(sources), len(days)))
    for (source, day, _), rows in counts.items():
        grid[sources.index(source), (day - start).days] += rows
    out = []
    fig, ax = plt.subplots(figsize=(10, 1.4 + 0.3 * len(sources)))
    edges = [dt.datetime.combine(start, dt.time()) + dt.timedelta(days=n) for n in range(len(days) + 1)]
    mesh = ax.pcolormesh(
        edges, range(len(sources) + 1), np.ma.masked_equal(grid, 0), cmap="viridis", norm=LogNorm(vmin=1)
    )
    ax.set_yticks([n + 0.5 for n in range(len(sources))], sources)
    ax.invert_yaxis()
    _date_axis(ax, start, end)
    ax.set_xlim(edges[0], edges[-1])
    ax.set_xlabel("day the rows landed (UTC); blank = nothing landed")
    ax.set_title(f"Rows landed per day per source, last {WINDOW_DAYS} days")
    fig.colorbar(mesh, ax=ax, label="rows (log scale)", pad=0.01)
    out.append((f"Rows landed per day per source, last {WINDOW_DAYS} days", png(fig)))

    fig, axes = plt.subplots(2, 1, figsize=(10, 4.6), sharex=True)
    palette = plt.get_cmap("tab20")
    for ax, state in zip(axes, ("invalid", "warning")):
        bottom = np.zeros(len(days))
        for n, source in enumerate(sources):
            heights = np.zeros(len(days))
            for day_index, day in enumerate(days):
                heights[day_index] = counts.get((source, day, state), 0)
            if heights.any():
                ax.bar(days, heights, bottom=bottom, width=0.9, color=palette(n % 20), label=source)
                bottom += heights
        if not bottom.any():
            ax.text(0.5, 0.5, f"no {state} rows in these {WINDOW_DAYS} days", ha="center", transform=ax.transAxes)
        else:
            ax.legend(loc="upper left", fontsize=7, ncol=4)
        ax.set_ylabel("rows")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(f"{state.capitalize()} rows landed per day, by source")
        _date_axis(ax, start, end)
    axes[-1].set_xlabel("day the rows landed (UTC)")
    out.append((f"Invalid and warning rows per day, last {WINDOW_DAYS} days", png(fig)))
    return out


def trend_chart(trend: Trend, days: list[dt.date], values: dict[str, list], start: dt.date, end: dt.date) -> str:
    """The trend's daily values (thin, dotted) and their 7-day rolling means (thick)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.0))
    for n, series in enumerate(trend.series):
        colour = f"C{n}"
        points = values[series.label]
        ax.plot(days, points, ".", color=colour, alpha=0.45, markersize=4, label=f"{series.label}, daily")
        ax.plot(days, rolling_mean(days, points), "-", color=colour, linewidth=2, label=f"{series.label}, 7-day mean")
    ax.set_title(trend.title)
    ax.set_ylabel(trend.unit)
    _date_axis(ax, start, end)
    ax.legend(fontsize=7, loc="best")
    return png(fig)


def deviation_chart(rows: list[tuple], shown: list[str], total: int) -> str:
    """Small multiples: each participant's daily steps, their baseline (dashed) and baseline window (shaded)."""
    plt = _pyplot()
    columns = min(3, len(shown))
    lines = -(-len(shown) // columns)
    fig, axes = plt.subplots(lines, columns, figsize=(10, 2.3 * lines), squeeze=False)
    for ax, user in zip(axes.flat, shown):
        mine = sorted(r for r in rows if r[0] == user)
        days = [r[1] for r in mine]
        ax.plot(days, [r[2] for r in mine], ".-", markersize=3, linewidth=1, label="steps")
        ax.axhline(float(mine[0][3]), color="C3", linestyle="--", linewidth=1, label="baseline (median)")
        window = [r[1] for r in mine if r[4]]
        if window:
            ax.axvspan(min(window), max(window), color="grey", alpha=0.15, label="baseline window")
        ax.set_title(f"participant {user}", fontsize=8)
        ax.set_ylabel("steps per day")
        _date_axis(ax, min(days), max(days))
    for ax in list(axes.flat)[len(shown) :]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=6, loc="upper right")
    more = f" ({len(shown)} of {total} with the most days)" if total > len(shown) else ""
    fig.suptitle(f"Fitabase participants: daily steps against their baseline{more}")
    return png(fig)


# --- assembling ----------------------------------------------------------------------


def database_name() -> str:
    """The database the report reads (its name only: the URL carries the password)."""
    return urlsplit(dbctl.settings()["url"]).path.lstrip("/") or "?"


def build(now: dt.datetime | None = None) -> Report:
    """Read everything the page shows; a part that is missing becomes a sentence in ``missing``."""
    now = now or dt.datetime.now(UTC)
    report = Report(generated_at=now, database=database_name())
    rows = status.report(now=now)  # also creates bronze's status view on an empty database
    report.pipelines = pipeline_freshness(rows, status.last_runs())
    if not report.pipelines:
        report.missing.append(
            "No pipeline is configured or has run, and bronze has no tables: configure a source (.env) and run it "
            "(`make run-all`), or try `make demo`."
        )
    elif chart := freshness_chart(report.pipelines, now):
        report.charts.append(("freshness", "Time since each pipeline's last success", chart))
    tables = sorted({r["table_name"] for r in rows if r["table_name"]})
    end = now.date()
    start = end - dt.timedelta(days=WINDOW_DAYS - 1)
    with dbctl.connect() as conn:
        counts = landings(conn, tables, start)
        if not tables:
            report.missing.append("No bronze tables yet: nothing has landed, so there are no rows per day to show.")
        elif not counts:
            report.missing.append(f"Nothing landed in the last {WINDOW_DAYS} days (UTC days {start} to {end}).")
        else:
            for title, chart in landing_charts(counts, start, end):
                report.charts.append(("landings", title, chart))
        add_trends(conn, report, now.date())
        add_deviation(conn, report)
    return report


DBT_HINT = "build the marts with dbt (`meltano invoke dbt-postgres:run`; `make demo` does it for its database)"


def add_trends(conn, report: Report, today: dt.date) -> None:
    """mart.daily_health's newest 90 days (up to today) as one chart per trend."""
    columns = relation_columns(conn, "mart", "daily_health")
    if not columns:
        report.missing.append(f"mart.daily_health does not exist: {DBT_HINT}.")
        return
    oldest, newest = conn.execute(
        "SELECT min(day), max(day) FROM mart.daily_health WHERE day <= %s", (today,)
    ).fetchone()
    if newest is None:
        report.missing.append("mart.daily_health has no days yet: no health source has loaded data.")
        return
    start = max(oldest, newest - dt.timedelta(days=WINDOW_DAYS - 1))  # no empty months before the data
    days = [start + dt.timedelta(days=n) for n in range((newest - start).days + 1)]
    for trend in TRENDS:
        usable = [s for s in trend.series if set(s.columns) <= columns]
        for absent in set(trend.series) - set(usable):
            report.missing.append(f"mart.daily_health has no column {', '.join(absent.columns)} ({trend.title}).")
        if not usable:
            continue
        query = sql.SQL("SELECT day, {} FROM mart.daily_health WHERE day BETWEEN %s AND %s").format(
            sql.SQL(", ").join(sql.SQL(f"({s.sql})::float") for s in usable)
        )
        found = {day: values for day, *values in conn.execute(query, (start, newest))}
        values = {s.label: [found.get(day, [None] * len(usable))[n] for day in days] for n, s in enumerate(usable)}
        if not any(v is not None for series in values.values() for v in series):
            report.missing.append(f"{trend.title}: no source gave a value from {start} to {newest}.")
            continue
        chart = trend_chart(Trend(trend.title, trend.unit, tuple(usable)), days, values, start, newest)
        report.charts.append(("trends", trend.title, chart))


def add_deviation(conn, report: Report) -> None:
    """Fitabase participants' daily steps against their baseline (mart.user_activity_deviation)."""
    if not relation_columns(conn, "mart", "user_activity_deviation"):
        report.missing.append(f"mart.user_activity_deviation does not exist: {DBT_HINT}.")
        return
    rows = conn.execute(
        "SELECT user_id, activity_date, total_steps, baseline_steps, is_baseline_window "
        "FROM mart.user_activity_deviation WHERE total_steps IS NOT NULL AND baseline_steps IS NOT NULL"
    ).fetchall()
    if not rows:
        report.missing.append("mart.user_activity_deviation is empty: no Fitabase participant has a baseline yet.")
        return
    days_per_user: dict[str, int] = {}
    for user, *_ in rows:
        days_per_user[user] = days_per_user.get(user, 0) + 1
    shown = sorted(sorted(days_per_user, key=lambda u: (-days_per_user[u], u))[:MAX_PARTICIPANTS])
    chart = deviation_chart(rows, shown, len(days_per_user))
    report.charts.append(("fitabase", "Fitabase participants: steps against baseline", chart))


# --- the page ------------------------------------------------------------------------

CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5rem auto; max-width: 1040px; padding: 0 1rem; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.85rem; width: 100%; }
th, td { text-align: left; padding: 0.25rem 0.5rem; border-bottom: 1px solid #eee; vertical-align: top; }
.verdict { font-weight: 600; padding: 0 0.4rem; border-radius: 0.3rem; color: white; }
.fresh { background: #2e7d32; } .warning { background: #f9a825; } .stale { background: #ef6c00; }
.failed { background: #c62828; } .never { background: #757575; }
figure { margin: 0.8rem 0; } img { max-width: 100%; height: auto; display: block; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr)); gap: 0.5rem; }
.missing { background: #fff8e1; border-left: 4px solid #f9a825; padding: 0.5rem 1rem; }
.muted { color: #666; font-size: 0.85rem; }
"""

SECTIONS = (
    ("freshness", "Freshness per pipeline", "As `make status` decides it."),
    ("landings", "Rows landed", "By the day they landed in bronze (ingested_at, UTC)."),
    (
        "trends",
        "Daily health",
        "mart.daily_health, its newest 90 days (up to today); dots are days, lines 7-day rolling means.",
    ),
    ("fitabase", "Fitabase research data", "mart.user_activity_deviation."),
)


def _when(value: dt.datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else "-"


def freshness_table(entries: list[dict]) -> str:
    head = "<tr><th>pipeline</th><th>last success</th><th>last failure</th><th>verdict</th><th>tables</th></tr>"
    lines = []
    for e in entries:
        tables = "<br>".join(
            f"{html.escape(name)}: {html.escape(verdict)}, {rows} rows" + (f", {bad} open invalid" if bad else "")
            for name, verdict, rows, bad in e["tables"]
        )
        if tables:
            summary = f"{len(e['tables'])} table{'s' if len(e['tables']) != 1 else ''}"
            if invalid := sum(bad for *_, bad in e["tables"]):
                summary += f", {invalid} open invalid rows"
            tables = f"<details><summary>{summary}</summary>{tables}</details>"
        lines.append(
            f"<tr><td>{html.escape(e['pipeline'])}</td><td>{_when(e['last_success_at'])}</td>"
            f"<td>{_when(e['last_failure_at'])}</td>"
            f"<td><span class='verdict {e['verdict']}'>{e['verdict']}</span></td><td>{tables or '-'}</td></tr>"
        )
    return f"<table>{head}{''.join(lines)}</table>"


def render(report: Report) -> str:
    """The whole page: inline CSS, charts as data URIs, no script and no external reference."""
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        "<link rel='icon' href='data:,'>",  # so a browser does not ask for /favicon.ico
        f"<title>Data lake report: {html.escape(report.database)}</title><style>{CSS}</style></head><body>",
        f"<h1>Data lake report</h1><p class='muted'>Database {html.escape(report.database)}, "
        f"generated {_when(report.generated_at)}.</p>",
    ]
    if report.missing:
        items = "".join(f"<li>{html.escape(m)}</li>" for m in report.missing)
        parts.append(f"<div class='missing' id='missing'><strong>Not shown</strong><ul>{items}</ul></div>")
    for key, heading, note in SECTIONS:
        parts.append(f"<h2>{heading}</h2><p class='muted'>{html.escape(note)}</p>")
        if key == "freshness" and report.pipelines:
            parts.append(freshness_table(report.pipelines))
        charts = [(title, uri) for section, title, uri in report.charts if section == key]
        if not charts and not (key == "freshness" and report.pipelines):
            parts.append("<p class='muted'>Nothing to show here yet (see above).</p>")
        parts.append("<div class='grid'>" if key == "trends" else "<div>")
        for title, uri in charts:
            alt = html.escape(title, quote=True)
            parts.append(f"<figure><img class='chart' alt='{alt}' src='{uri}'></figure>")
        parts.append("</div>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write(output: Path = DEFAULT_OUTPUT, now: dt.datetime | None = None) -> Report:
    """Build and write the page: owner-only (0600, its folder 0700 if new), since it shows your health data."""
    report = build(now)
    private_dir(output.parent)
    with open_private(output, "w") as handle:
        handle.write(render(report))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where to write the page")
    args = parser.parse_args(argv)
    report = write(args.output)
    print(f"report written to {args.output} ({len(report.charts)} charts)")
    for line in report.missing:
        print(f"  not shown: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
