"""Campaigns table: what each campaign did, written once per touch.

Items, by (campaign, key):
- `state`: the run's cursor — the moment up to which lapses have been looked at;
- `stats`: the campaign's counters, each changed with the touch that changes it, in one transaction;
- `touch#<member>#<campaign:step:occasion>`: one member reached by one step, for one occasion (a lapse, a
  broadcast, an entry into a segment). It is put only if absent: a run that is repeated, or overlaps another,
  reaches nobody twice. Its status moves queued → delivered | blocked, and it may be converted once;
- `boost#<receipt>`: the points a campaign's multiplier added to one receipt, counted once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from loyalty import clock
from loyalty.adapters.aws import client
from loyalty.adapters.dynamo import applied, from_item, query_index, to_item, transact
from loyalty.domain.campaigns import HELD_OUT, Touch, TouchRecord, touch_key

MEMBER_INDEX = "by_member"
COUNTERS = ("audience", "delivered", "blocked", "converted", "revenue_kopecks", "points_given", "points_spent",
            "clicks", "held", "merged", "dropped",  # these three: what the contact policy did (domain/contact.py)
            "stopped",  # queued, then dropped: the console stopped the campaign mid-send
            "skipped",  # queued, then not sent: what it said was no longer so (bought since, blocked the bot)
            "held_out", "holdout_converted", "holdout_revenue_kopecks",  # its holdout: sent nothing, bought or not
            "budget_used", "over_budget")  # its budget's points taken, and the members its rest could not pay


class CampaignStore:
    def __init__(self, table_name: str):
        self.table_name = table_name

    # ------------------------------------------------------------------ runs
    def cursor(self, campaign: str) -> datetime | None:
        item = self._get(campaign, "state")
        return datetime.fromisoformat(item["cursor"]) if item and "cursor" in item else None

    def advance(self, campaign: str, to: datetime) -> None:
        """The run looked at everything up to `to` (never moves back: an older run finishing late)."""
        applied("update_item", TableName=self.table_name, Key=to_item({"campaign": campaign, "key": "state"}),
                UpdateExpression="SET #cursor = :to",
                ConditionExpression="attribute_not_exists(#cursor) OR #cursor < :to",
                ExpressionAttributeNames={"#cursor": "cursor"},
                ExpressionAttributeValues=to_item({":to": clock.stamp(to)}))

    # ------------------------------------------------------------------ touches
    def touched(self, touch: Touch) -> bool:
        return self._get(touch.campaign, touch_key(touch)) is not None

    def record(self, touch: Touch, points_given: int, now: datetime) -> bool:
        """Write the touch once, counting it in the campaign's audience; False if it was already there."""
        record = TouchRecord(campaign=touch.campaign, key=touch_key(touch), member_id=touch.member_id, step=touch.step,
                             status="queued", queued_at=clock.stamp(now), points_given=points_given)
        return self._transact(
            {"Put": {"TableName": self.table_name, "Item": to_item(record.model_dump()),
                     "ConditionExpression": "attribute_not_exists(#key)", "ExpressionAttributeNames": {"#key": "key"}}},
            self._count(touch.campaign, audience=1, points_given=points_given))

    def settle(self, campaign: str, key: str, status: str, now: datetime, also: Sequence[Any] = ()) -> bool:
        """A queued touch was delivered (or the member had blocked the bot); counted once, with `also` (the
        member's last touch) in the same transaction. When `also` is refused (the member was erased since the
        message went out), the delivery is counted without it."""
        settled = [{"Update": {"TableName": self.table_name, "Key": to_item({"campaign": campaign, "key": key}),
                               "UpdateExpression": "SET #status = :status, delivered_at = :at",
                               "ConditionExpression": "#status = :queued",
                               "ExpressionAttributeNames": {"#status": "status"},
                               "ExpressionAttributeValues": to_item({":status": status, ":at": clock.stamp(now),
                                                                     ":queued": "queued"})}},
                   self._count(campaign, **{status: 1})]
        failed = transact([*settled, *also])
        if failed and 0 not in failed:
            failed = transact(settled)
        return not failed

    def convert(self, campaign: str, key: str, revenue_kopecks: int, now: datetime, held_out: bool = False) -> bool:
        """A delivered touch (or a held-out one) led to a purchase: counted once, with the purchase's brand goods as its
        revenue; a held-out member's apart, as what the campaign's members would have bought without it."""
        counted = {"holdout_converted": 1, "holdout_revenue_kopecks": revenue_kopecks} if held_out \
            else {"converted": 1, "revenue_kopecks": revenue_kopecks}
        return self._transact(
            {"Update": {"TableName": self.table_name, "Key": to_item({"campaign": campaign, "key": key}),
                        "UpdateExpression": "SET converted_at = :at, revenue_kopecks = :revenue",
                        "ConditionExpression": "#status = :settled AND attribute_not_exists(converted_at)",
                        "ExpressionAttributeNames": {"#status": "status"},
                        "ExpressionAttributeValues": to_item({":at": clock.stamp(now), ":revenue": revenue_kopecks,
                                                              ":settled": HELD_OUT if held_out else "delivered"})}},
            self._count(campaign, **counted))

    def touches(self, campaign: str) -> Iterator[TouchRecord]:
        for page in client("dynamodb").get_paginator("query").paginate(
            TableName=self.table_name, KeyConditionExpression="campaign = :c AND begins_with(#key, :touch)",
            ExpressionAttributeNames={"#key": "key"}, ExpressionAttributeValues=to_item({":c": campaign,
                                                                                         ":touch": "touch#"}),
        ):
            yield from (TouchRecord.model_validate(from_item(item)) for item in page["Items"])

    def touches_of(self, member_id: str) -> list[TouchRecord]:
        """Every campaign's and nudge's touch of the member (the console's card), through the member index."""
        found = []
        for key in query_index(self.table_name, MEMBER_INDEX, "member_id = :m", {":m": member_id}):
            item = self._get(key["campaign"], key["key"])
            if item is not None:
                found.append(TouchRecord.model_validate(item))
        return found

    def forget_member(self, member_id: str, pseudonym: str) -> int:
        """/delete: the member's deliveries move to their pseudonym (the campaigns' figures stay whole, nothing names
        the member). How many moved; 0 when done before."""
        moved = 0
        for found in list(query_index(self.table_name, MEMBER_INDEX, "member_id = :m", {":m": member_id})):
            item = self._get(found["campaign"], found["key"])
            if item is None:
                continue
            renamed = {**item, "member_id": pseudonym,
                       "key": str(item["key"]).replace(f"touch#{member_id}#", f"touch#{pseudonym}#", 1)}
            transact([{"Put": {"TableName": self.table_name, "Item": to_item(renamed)}},
                      {"Delete": {"TableName": self.table_name,
                                  "Key": to_item({"campaign": found["campaign"], "key": found["key"]})}}])
            moved += 1
        return moved

    # ------------------------------------------------------------------ budget
    def reserve(self, campaign: str, points: int, total: int) -> bool:
        """Take `points` from the campaign's budget of `total`; False, taking nothing, when the rest is less. Taken
        before the bonus is given: a run that dies in between has spent budget, never more than the budget."""
        return applied("update_item", TableName=self.table_name, Key=to_item({"campaign": campaign, "key": "stats"}),
                       UpdateExpression="ADD budget_used :points",
                       ConditionExpression="attribute_not_exists(budget_used) OR budget_used <= :room",
                       ExpressionAttributeValues=to_item({":points": points, ":room": total - points}))

    def spent(self, campaign: str) -> int:
        """The budget's points taken so far."""
        return int((self._get(campaign, "stats") or {}).get("budget_used", 0))

    def given_to(self, campaign: str, member_id: str) -> int:
        """The points the campaign's touches gave the member so far."""
        given = 0
        for page in client("dynamodb").get_paginator("query").paginate(
            TableName=self.table_name, KeyConditionExpression="campaign = :c AND begins_with(#key, :mine)",
            ProjectionExpression="points_given", ExpressionAttributeNames={"#key": "key"},
            ExpressionAttributeValues=to_item({":c": campaign, ":mine": f"touch#{member_id}#"}), ConsistentRead=True,
        ):
            given += sum(int(from_item(item).get("points_given", 0)) for item in page["Items"])
        return given

    def boosted(self, campaign: str, receipt: str, points: int, now: datetime) -> bool:
        """The campaign's boost added `points` to a receipt: counted once as given and taken from its budget (a
        redelivered receipt counts nothing again). Kept by the receipt alone: it names nobody."""
        return self._transact(
            {"Put": {"TableName": self.table_name,
                     "Item": to_item({"campaign": campaign, "key": f"boost#{receipt}", "points_given": points,
                                      "at": clock.stamp(now)}),
                     "ConditionExpression": "attribute_not_exists(#key)", "ExpressionAttributeNames": {"#key": "key"}}},
            self._count(campaign, points_given=points, budget_used=points))

    # ------------------------------------------------------------------ figures
    def stats(self, campaign: str) -> dict[str, int]:
        item = self._get(campaign, "stats") or {}
        return {name: int(item.get(name, 0)) for name in COUNTERS}

    def add(self, campaign: str, **counters: int) -> None:
        """Add to a campaign's counters outside a touch's transaction (points spent, counted at the commit)."""
        client("dynamodb").update_item(**self._count(campaign, **counters)["Update"])

    def _count(self, campaign: str, **counters: int) -> dict[str, Any]:
        names = {f"#{name}": name for name in counters}
        return {"Update": {
            "TableName": self.table_name, "Key": to_item({"campaign": campaign, "key": "stats"}),
            "UpdateExpression": "ADD " + ", ".join(f"#{name} :{name}" for name in counters),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": to_item({f":{name}": value for name, value in counters.items()}),
        }}

    def _transact(self, *items: dict[str, Any]) -> bool:
        """False: written before (the touch's condition was false: a repeated run, a redelivered message)."""
        return not transact(list(items))

    def _get(self, campaign: str, key: str) -> dict[str, Any] | None:
        response = client("dynamodb").get_item(TableName=self.table_name,
                                               Key=to_item({"campaign": campaign, "key": key}), ConsistentRead=True)
        return from_item(response["Item"]) if "Item" in response else None
