"""The prize draw's records, in the bot table:

- `draw#seed` / `<day>`: the day's seed, its hash and when it was made (the hash is published, the seed once the day
  is over);
- `draw#state` / `counts`: what the draw has given (domain/draw.py: Counts), the day's last spin and a version; every
  spin moves it by a conditional write, so spins are ordered and no budget or stock is overspent by a race;
- `draw#<day>` / `<seq>`: the day's spins in order, as published and verified;
- `draw#player#<player>` / `<number>`: where a member's spin `number` is (its day and seq): a spin asked twice is
  found, not drawn again.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Any

from loyalty import clock
from loyalty.adapters.aws import client
from loyalty.adapters.dynamo import applied, from_item, to_item, transact
from loyalty.domain.draw import Counts, Spin, seed_hash
from loyalty.domain.errors import Contended

SEEDS = "draw#seed"
STATE = "draw#state"


def _day_key(day: str) -> str:
    return f"draw#{day}"


def _player_key(player: str) -> str:
    return f"draw#player#{player}"


class DrawStore:
    def __init__(self, table_name: str):
        self.table_name = table_name

    # ------------------------------------------------------------------ seeds
    def seed(self, day: date, now: datetime) -> bytes:
        """The day's seed: made once (a random 32 bytes, written only if none is), the same ever after."""
        found = self._get(SEEDS, day.isoformat())
        if found is not None:
            return bytes.fromhex(str(found["seed"]))
        seed = secrets.token_bytes(32)
        item = {"pk": SEEDS, "sk": day.isoformat(), "seed": seed.hex(), "hash": seed_hash(seed),
                "made_at": clock.stamp(now)}
        if self._put_new(item):
            return seed
        raced = self._get(SEEDS, day.isoformat())  # made meanwhile by another spin: that one stands
        assert raced is not None
        return bytes.fromhex(str(raced["seed"]))

    def seeds(self, first: date, last: date) -> list[dict[str, Any]]:
        """The seeds made for days `first`..`last`: {day, seed (hex), hash, made_at}, oldest first."""
        pages = client("dynamodb").get_paginator("query").paginate(
            TableName=self.table_name, KeyConditionExpression="pk = :pk AND sk BETWEEN :first AND :last",
            ExpressionAttributeValues=to_item({":pk": SEEDS, ":first": first.isoformat(), ":last": last.isoformat()}))
        return [{"day": item["sk"], **{key: item[key] for key in ("seed", "hash", "made_at")}}
                for page in pages for item in map(from_item, page["Items"])]

    # ------------------------------------------------------------------ spins
    def state(self) -> tuple[Counts, int, int]:
        """The counts so far, the last spin's seq on their day and the state's version (0: no spin yet)."""
        item = self._get(STATE, "counts")
        if item is None:
            return Counts(), 0, 0
        return Counts.model_validate(item["counts"]), int(item["seq"]), int(item["version"])

    def record(self, spin: Spin, after: Counts, version: int) -> bool:
        """Write the spin and the counts after it, if the state is still at `version` and the member's spin of
        this number is not written yet: False when either was written meanwhile (read again and see)."""
        state = {"Put": {
            "TableName": self.table_name,
            "Item": to_item({"pk": STATE, "sk": "counts", "counts": after.model_dump(mode="json"), "seq": spin.seq,
                             "version": version + 1}),
            "ConditionExpression": "attribute_not_exists(pk)" if version == 0 else "version = :version",
            **({"ExpressionAttributeValues": to_item({":version": version})} if version else {})}}
        entry = {"Put": {"TableName": self.table_name, "ConditionExpression": "attribute_not_exists(pk)",
                         "Item": to_item({"pk": _day_key(spin.day), "sk": f"{spin.seq:07d}",
                                          "spin": spin.model_dump(mode="json")})}}
        pointer = {"Put": {"TableName": self.table_name, "ConditionExpression": "attribute_not_exists(pk)",
                           "Item": to_item({"pk": _player_key(spin.player), "sk": f"{spin.number:07d}",
                                            "day": spin.day, "seq": spin.seq})}}
        try:
            return not transact([state, entry, pointer])
        except Contended:
            return False

    def spin_of(self, player: str, number: int) -> Spin | None:
        pointer = self._get(_player_key(player), f"{number:07d}")
        if pointer is None:
            return None
        item = self._get(_day_key(str(pointer["day"])), f"{int(pointer['seq']):07d}")
        return Spin.model_validate(item["spin"]) if item else None

    def day(self, day: date) -> list[Spin]:
        """The day's spins in order."""
        pages = client("dynamodb").get_paginator("query").paginate(
            TableName=self.table_name, KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=to_item({":pk": _day_key(day.isoformat())}), ConsistentRead=True)
        return [Spin.model_validate(from_item(item)["spin"]) for page in pages for item in page["Items"]]

    # ------------------------------------------------------------------ plumbing
    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        response = client("dynamodb").get_item(TableName=self.table_name, Key=to_item({"pk": pk, "sk": sk}),
                                               ConsistentRead=True)
        return from_item(response["Item"]) if "Item" in response else None

    def _put_new(self, item: dict[str, Any]) -> bool:
        return applied("put_item", TableName=self.table_name, Item=to_item(item),
                       ConditionExpression="attribute_not_exists(pk)")
