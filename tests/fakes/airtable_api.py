"""A local fake of the Airtable Web API (list records of a table).

Shapes follow Airtable's reference: ``GET /v0/{baseId}/{tableIdOrName}`` with
``pageSize`` (at most 100), ``offset`` and ``filterByFormula``; the answer is
``{"records": [{"id": "rec...", "createdTime", "fields": {...}}], "offset"}``
with ``offset`` only while more pages remain. Of formulas, the fake
understands only the one tap-airtable sends:
``NOT(IS_BEFORE({<field>}, '<ISO time>'))``; anything else is a 422
``INVALID_FILTER_BY_FORMULA``, as Airtable answers for a bad formula.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import string
from urllib.parse import unquote

from tests.fakes.http_fake import FakeAPI, Request

UTC = dt.UTC
BASE_ID = "appFAKEbase00001"
FORMULA = re.compile(r"^NOT\(IS_BEFORE\(\{(?P<field>[^{}]+)\}, '(?P<when>[^']+)'\)\)$")


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _record_id(rng: random.Random) -> str:
    return "rec" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(14))


class FakeAirtable(FakeAPI):
    """One base with an inventory (with a "Last modified" field) and body measurements."""

    def __init__(self, token: str = "patFAKE.token0123456789", rows: int = 150, seed: int = 9):
        super().__init__()
        self.token = token
        rng = random.Random(seed)
        now = dt.datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        self.tables: dict[str, list[dict]] = {"Inventory": [], "Body measurements": []}
        for n in range(rows):
            created = now - dt.timedelta(days=300 - n, minutes=rng.randint(0, 600))
            self.tables["Inventory"].append(
                {
                    "id": _record_id(rng),
                    "createdTime": _iso(created),
                    "fields": {
                        "Item": rng.choice(["Rice", "Coffee", "Oats", "Batteries", "Soap"]) + f" #{n}",
                        "Quantity": rng.randint(0, 12),
                        "Location": rng.choice(["Pantry", "Garage"]),
                        "Last modified": _iso(created + dt.timedelta(hours=rng.randint(0, 48))),
                    },
                }
            )
        for n in range(rows // 3):
            created = now - dt.timedelta(days=100 - n)
            fields = {"Date": created.date().isoformat(), "Weight (kg)": round(rng.uniform(70, 80), 1)}
            if n % 4:  # sparse fields are left out entirely, as Airtable does
                fields["Waist (cm)"] = rng.randint(80, 90)
            self.tables["Body measurements"].append(
                {"id": _record_id(rng), "createdTime": _iso(created), "fields": fields}
            )

    def edit(self, table: str, index: int, **fields) -> dict:
        with self._lock:
            record = self.tables[table][index]
            record["fields"].update(fields)
            if "Last modified" in record["fields"]:
                record["fields"]["Last modified"] = _iso(dt.datetime.now(UTC))
            return record

    def answer(self, request: Request) -> tuple[int, object, dict]:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return 401, {"error": {"type": "AUTHENTICATION_REQUIRED", "message": "Authentication required"}}, {}
        parts = request.path.split("/")
        if len(parts) != 4 or parts[1] != "v0" or parts[2] != BASE_ID or unquote(parts[3]) not in self.tables:
            return 404, {"error": "NOT_FOUND"}, {}
        with self._lock:
            records = list(self.tables[unquote(parts[3])])
        formula = request.query.get("filterByFormula")
        if formula:
            match = FORMULA.match(formula)
            if not match:
                return (
                    422,
                    {
                        "error": {
                            "type": "INVALID_FILTER_BY_FORMULA",
                            "message": "The formula for filtering records is invalid",
                        }
                    },
                    {},
                )
            bound = dt.datetime.fromisoformat(match["when"].replace("Z", "+00:00"))
            records = [
                r
                for r in records
                if match["field"] in r["fields"]
                and dt.datetime.fromisoformat(r["fields"][match["field"]].replace("Z", "+00:00")) >= bound
            ]
        size = min(int(request.query.get("pageSize", 100)), 100)
        start = int(request.query["offset"].split("/")[0][3:]) if "offset" in request.query else 0
        body: dict = {"records": records[start : start + size]}
        if start + size < len(records):
            body["offset"] = f"itr{start + size}/{records[start + size]['id']}"
        return 200, body, {}
