"""Points ledger: an append-only list of entries per member, and the member's cached balance.

An entry and the balance change are written in one DynamoDB transaction. The entry's key is derived from
what caused it (a receipt's fiscal key, say), so a redelivered message finds its entry already written and
changes nothing. The balance update is conditional on the member's version, so two concurrent writers can
never lose an update: the loser re-reads and tries again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel

from loyalty.adapters.aws import client, error_code
from loyalty.adapters.dynamo import from_item, to_item
from loyalty.domain.errors import MemberNotFound

_MAX_ATTEMPTS = 10


class Posting(BaseModel):
    """The outcome of writing one entry: `applied` is False when the entry was already there."""

    entry_id: str
    points: int
    balance_after: int
    applied: bool


class LedgerRepository:
    def __init__(self, ledger_table: str, members_table: str):
        self.ledger_table = ledger_table
        self.members_table = members_table

    def post(self, member_id: str, entry_id: str, kind: str, points: int, details: dict[str, Any]) -> Posting:
        """Write the entry once. A debit larger than the balance takes only the balance (never below zero)
        and records the rest as `shortfall`."""
        for _ in range(_MAX_ATTEMPTS):
            balance, version = self._balance(member_id)
            applied = max(points, -balance)
            extra = {"shortfall": applied - points} if applied != points else {}
            try:
                self._write(member_id, entry_id, kind, applied, {**details, **extra}, balance, version)
            except ClientError as error:
                if error_code(error) != "TransactionCanceledException":
                    raise
                reasons = error.response.get("CancellationReasons", [{}])
                if reasons[0].get("Code") == "ConditionalCheckFailed":  # the entry exists: a redelivery
                    existing = self._entry(member_id, entry_id)
                    if existing is not None:
                        return Posting(entry_id=entry_id, points=existing["points"],
                                       balance_after=existing["balance_after"], applied=False)
                continue  # another writer moved the balance: read it again
            return Posting(entry_id=entry_id, points=applied, balance_after=balance + applied, applied=True)
        raise RuntimeError(f"ledger contention on member {member_id}: gave up after {_MAX_ATTEMPTS} attempts")

    def entry(self, member_id: str, entry_id: str) -> dict[str, Any] | None:
        return self._entry(member_id, entry_id)

    def entries(self, member_id: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for page in client("dynamodb").get_paginator("query").paginate(
            TableName=self.ledger_table,
            KeyConditionExpression="member_id = :m",
            ExpressionAttributeValues=to_item({":m": member_id}),
            ConsistentRead=True,
        ):
            items += [from_item(item) for item in page["Items"]]
        return items

    def _write(self, member_id: str, entry_id: str, kind: str, points: int, details: dict[str, Any],
               balance: int, version: int) -> None:
        client("dynamodb").transact_write_items(
            TransactItems=[
                {"Put": {
                    "TableName": self.ledger_table,
                    "Item": to_item({
                        "member_id": member_id, "entry_id": entry_id, "kind": kind, "points": points,
                        "balance_after": balance + points, "created_at": _now(), **details,
                    }),
                    "ConditionExpression": "attribute_not_exists(entry_id)",
                }},
                {"Update": {
                    "TableName": self.members_table,
                    "Key": to_item({"member_id": member_id}),
                    "UpdateExpression": "SET balance = :new, version = :next",
                    "ConditionExpression": "version = :seen",
                    "ExpressionAttributeValues": to_item(
                        {":new": balance + points, ":next": version + 1, ":seen": version}
                    ),
                }},
            ]
        )

    def _entry(self, member_id: str, entry_id: str) -> dict[str, Any] | None:
        response = client("dynamodb").get_item(
            TableName=self.ledger_table, Key=to_item({"member_id": member_id, "entry_id": entry_id}),
            ConsistentRead=True,
        )
        return from_item(response["Item"]) if "Item" in response else None

    def _balance(self, member_id: str) -> tuple[int, int]:
        response = client("dynamodb").get_item(
            TableName=self.members_table, Key=to_item({"member_id": member_id}),
            ProjectionExpression="balance, version", ConsistentRead=True,
        )
        if "Item" not in response:
            raise MemberNotFound(member_id)
        values = from_item(response["Item"])
        return values.get("balance", 0), values.get("version", 0)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
