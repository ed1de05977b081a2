"""Print bench/results/*.json as the Markdown table the README quotes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def table(path: Path) -> str:
    report = json.loads(path.read_text(encoding="utf-8"))
    lines = [
        f"{report['dataset']['records']:,} records, {report['date']}, {report['machine']}, "
        f"median of {report['repeat']}:",
        "",
        "| path | seconds | records/s | x COPY | peak RSS MB per process | CPU s per process | no-change run s |",
        "|---|---:|---:|---:|---|---|---:|",
    ]
    for name, r in report["paths"].items():
        rss = ", ".join(f"{k} {v:.0f}" for k, v in sorted(r["peak_rss_mb"].items()))
        cpu = ", ".join(f"{k} {v:.1f}" for k, v in sorted(r.get("cpu_seconds", {}).items()))
        lines.append(
            f"| {name} | {r['seconds']:.1f} | {r['records_per_s']:,} | "
            f"{r['ratio_to_copy'] or 0:.1f} | {rss} | {cpu} | {r.get('no_change_seconds', '')} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    for arg in sys.argv[1:] or [str(HERE / "results" / "latest.json")]:
        print(table(Path(arg)))
        print()
