"""`make demo` shows progress: a line as each source starts and ends, with rows and time.

The demo's own runner (scripts/demo.py) drives a real `meltano run` of two
file sources in the demo environment; its lines must come per source, in
order, with the rows each source delivered.
"""

from __future__ import annotations

import os
import re
import sys

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import demo


def test_each_source_prints_a_start_and_an_end_line_with_rows_and_time(meltano, capsys):
    chosen = [demo.registry.by_name()[name] for name in ("tap-manual", "tap-wearable-csv")]
    env = {**os.environ, **meltano.env, **demo.demo_env(chosen, {})}  # their samples, as sources.yml says
    code = demo.run_with_progress(["--environment=demo", "run", "--full-refresh", *demo.plan(chosen)], env)
    assert code == 0
    lines = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert [line[:2] for line in lines] == [
        ["tap-manual", "started"],
        ["tap-manual", "done:"],
        ["tap-wearable-csv", "started"],
        ["tap-wearable-csv", "done:"],
    ]
    # Records delivered: each lands once (the wearable sample repeats a few; the templates do not).
    for source, prefix, exact in (("tap-manual", "manual", True), ("tap-wearable-csv", "wearable", False)):
        end = " ".join(next(line for line in lines if line[:2] == [source, "done:"]))
        match = re.fullmatch(rf"{source} done: (\d+) records \((\d+) invalid\) in \d+\.\d s", end)
        assert match, end
        tables = meltano.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'bronze' AND table_name LIKE %s",
            prefix + "\\_\\_%",
        )
        landed = sum(meltano.query(f'SELECT count(*) FROM bronze."{name}"')[0][0] for (name,) in tables)
        assert landed > 0 and (int(match[1]) == landed if exact else int(match[1]) >= landed)
    assert demo.DEMO_LOG.stat().st_mode & 0o077 == 0
