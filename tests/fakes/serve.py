"""Serve the fake APIs for the demo (or for poking at by hand) until killed.

    python -m tests.fakes.serve garmin toggl

prints one line per fake, ``<name> <base url>`` (Notion adds its comma-separated
database ids), then a line ``ready``.
"""

from __future__ import annotations

import argparse
import threading

from tests.fakes.airtable_api import FakeAirtable
from tests.fakes.garmin_api import FakeGarmin
from tests.fakes.hidrate_api import FakeHidrate
from tests.fakes.hubspot_api import FakeHubspot
from tests.fakes.notion_api import FakeNotion
from tests.fakes.openmeteo_api import FakeOpenMeteo
from tests.fakes.toggl_api import FakeToggl

FAKES = {
    "garmin": lambda: FakeGarmin(days=21),
    "toggl": lambda: FakeToggl(days=60),
    "notion": lambda: FakeNotion(pages_per_source=60),
    "airtable": lambda: FakeAirtable(rows=40),
    "openmeteo": FakeOpenMeteo,
    "hidrate": FakeHidrate,
    "hubspot": FakeHubspot,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="+", choices=sorted(FAKES))
    args = parser.parse_args()
    for name in args.names:
        fake = FAKES[name]().start()
        extra = " " + ",".join(fake.database_ids()) if name == "notion" else ""
        print(f"{name} {fake.url}{extra}", flush=True)
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
