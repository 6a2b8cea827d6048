"""FiguresTable: the daily tallies the dashboard and the report read (domain/daily.py), kept by the figures
function from the tables' streams.

- `part#<n>` / `<yyyy-mm-dd>`: a day's counters, one attribute per tally key. Writes spread over PARTS items per
  day (a batch goes to the part its first record picks), and each batch of stream records is folded into one
  update per day it touched: no item takes a write from every receipt.
- `part#<n>` / `total`: every day's stocks added up (domain/daily.py: stocks), so the stocks of any day (members,
  points owed, RFM groups) are this less the days after it, and a view reads only the days it shows.
- `batch#<stream>#<first record>` / `-`: which records a batch applied (up to `last`), in the same transaction as
  its counters: a batch delivered again adds nothing twice. They expire after a few days (streams keep 24 hours).
- `past#<member>` / `-`: what the member's purchases so far tell their next one (domain/daily.py: Past), for the
  purchases written before the ledger put each purchase's past on its entry (adapters/ledger.py): read only for
  those, written with the batch that changed it, gone when the member deletes their account.
- `part#backfill`: what `loyalty figures backfill` rebuilt from the books; the live parts are emptied with it.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from typing import Any

from loyalty.adapters.aws import client
from loyalty.adapters.dynamo import batch_items, from_item, shard_of, to_item, transact
from loyalty.domain.daily import DAYS_PER_WRITE, Past, Tally, nonzero, stocks
from loyalty.domain.errors import Contended

PARTS = 4
BACKFILL = "part#backfill"
TOTAL = "total"
_MARKER_DAYS = 3
_ATTEMPTS = 8  # transactions of concurrent batches meeting on one item: tried again, then the batch is retried


class FiguresTable:
    def __init__(self, table_name: str):
        self.table_name = table_name

    def applied_up_to(self, stream: str, first: str) -> str | None:
        """The last record a batch starting at `first` applied (None: none did)."""
        response = client("dynamodb").get_item(TableName=self.table_name, ConsistentRead=True,
                                               Key=to_item({"pk": f"batch#{stream}#{first}", "sk": "-"}))
        return str(from_item(response["Item"])["last"]) if "Item" in response else None

    def pasts(self, member_ids: Iterable[str]) -> dict[str, Past]:
        keys = [{"pk": f"past#{member}", "sk": "-"} for member in sorted(set(member_ids))]
        return {item["pk"].removeprefix("past#"): Past.model_validate_json(item["past"])
                for item in batch_items(self.table_name, keys, consistent=True)}

    def apply_once(self, stream: str, first: str, last: str, days: Mapping[date, Tally],
                   pasts: Mapping[str, Past | None] | None = None) -> bool:
        """Add the tallies of a stream's records `first`…`last` and keep the members' pasts they leave (None:
        forget it), at most DAYS_PER_WRITE days and pasts, all or nothing; unless a batch starting at `first` did
        before: False then (see `applied_up_to` for how far it got)."""
        pasts = pasts or {}
        if len(days) + len(pasts) > DAYS_PER_WRITE:
            raise ValueError(f"{len(days)} days and {len(pasts)} pasts in one transaction; at most {DAYS_PER_WRITE}")
        part = f"part#{shard_of(first, PARTS)}"
        total: Tally = Counter()
        for tally in days.values():
            total.update(stocks(tally))
        marker = {"Put": {"TableName": self.table_name, "ConditionExpression": "attribute_not_exists(pk)",
                          "Item": to_item({"pk": f"batch#{stream}#{first}", "sk": "-", "last": last,
                                           "expires": int(time.time()) + _MARKER_DAYS * 86_400})}}
        updates = [self._add(part, day.isoformat(), tally) for day, tally in sorted(days.items()) if tally]
        if total := Counter({key: value for key, value in total.items() if value}):
            updates.append(self._add(part, TOTAL, total))
        updates += [self._past(member, past) for member, past in sorted(pasts.items())]
        for _ in range(_ATTEMPTS):
            try:
                return not transact([marker, *updates])
            except Contended:
                time.sleep(0.05)
        raise Contended(f"figures of {stream} from {first}: other batches kept writing the same days")

    def read(self, since: date) -> tuple[dict[date, Tally], Tally]:
        """Every day's tally from `since` on (the future's too: RFM moves are known ahead), and the total."""
        days: dict[date, Tally] = {}
        total: Tally = Counter()
        for item in self._parts(since.isoformat()):
            # Counts straight from DynamoDB's JSON, not through boto3's Decimals: a year's days hold some hundred
            # thousand of them. A count that went up and down again is kept as 0 (an RFM move a later purchase
            # called off): it goes.
            counts = Counter({key: number for key, value in item.items()
                              if "N" in value and (number := int(value["N"]))})
            sk = item["sk"]["S"]
            if sk == TOTAL:
                total.update(counts)
            elif counts:
                days.setdefault(date.fromisoformat(sk), Counter()).update(counts)
        # parts of a day may cancel out (a move one batch added and a later purchase called off)
        return {day: kept for day, tally in days.items() if (kept := nonzero(tally))}, nonzero(total)

    def replace(self, days: Mapping[date, Tally], pasts: Mapping[str, Past]) -> int:
        """The backfill: these tallies and pasts become the table's whole content (the live parts are emptied;
        the batches' markers stay). How many items were written."""
        for page in client("dynamodb").get_paginator("scan").paginate(TableName=self.table_name,
                                                                      ProjectionExpression="pk, sk"):
            for key in page["Items"]:
                if not key["pk"]["S"].startswith("batch#"):
                    client("dynamodb").delete_item(TableName=self.table_name, Key=key)
        total: Tally = Counter()
        written = 0
        for day, tally in sorted(days.items()):
            total.update(stocks(tally))
            written += self._put(day.isoformat(), tally)
        for member, past in pasts.items():
            client("dynamodb").put_item(TableName=self.table_name, Item=to_item(
                {"pk": f"past#{member}", "sk": "-", "past": past.model_dump_json()}))
        return written + len(pasts) + self._put(TOTAL, total)

    def _put(self, sk: str, tally: Tally) -> int:
        kept = {key: value for key, value in tally.items() if value}
        if not kept:
            return 0
        client("dynamodb").put_item(TableName=self.table_name, Item=to_item({"pk": BACKFILL, "sk": sk, **kept}))
        return 1

    def _past(self, member: str, past: Past | None) -> dict[str, Any]:
        key = to_item({"pk": f"past#{member}", "sk": "-"})
        if past is None:
            return {"Delete": {"TableName": self.table_name, "Key": key}}
        return {"Put": {"TableName": self.table_name,
                        "Item": {**key, **to_item({"past": past.model_dump_json()})}}}

    def _add(self, part: str, sk: str, tally: Tally) -> dict[str, Any]:
        names = {f"#k{i}": key for i, key in enumerate(tally)}
        return {"Update": {
            "TableName": self.table_name, "Key": to_item({"pk": part, "sk": sk}),
            "UpdateExpression": "ADD " + ", ".join(f"#k{i} :v{i}" for i in range(len(tally))),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": to_item({f":v{i}": value for i, value in enumerate(tally.values())}),
        }}

    def _parts(self, since: str) -> Iterator[dict[str, Any]]:
        for part in [f"part#{n}" for n in range(PARTS)] + [BACKFILL]:
            yield from self._query(part, since)

    def _query(self, part: str, since: str) -> Iterator[dict[str, Any]]:
        """A part's items from the day `since` on, and its total ("total" sorts after every date), as DynamoDB
        writes them ({"N": "12"})."""
        for page in client("dynamodb").get_paginator("query").paginate(
            TableName=self.table_name, KeyConditionExpression="pk = :p AND sk >= :since",
            ExpressionAttributeValues=to_item({":p": part, ":since": since}),
        ):
            yield from page["Items"]
