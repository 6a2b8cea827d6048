"""AuditTable: the staff's audit log (domain/audit.py). One chain (pk `chain`), numbered entries (sk `seq`); the
indexes `by_actor` and `by_member` read one person's actions or what was done to one member.

Append-only by construction: an entry is put only where no entry has its number, and no function is granted
UpdateItem or DeleteItem on the table (template.yaml). Two appends racing for the same number: the loser re-reads
the chain's end and takes the next one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from loyalty.adapters.aws import client
from loyalty.adapters.dynamo import applied, from_item, to_item
from loyalty.domain.audit import GENESIS, Draft, Entry, chained
from loyalty.domain.errors import Contended

_CHAIN = "audit"
_TRIES = 20


class AuditLog:
    def __init__(self, table_name: str):
        self.table_name = table_name

    def append(self, draft: Draft) -> Entry:
        for _ in range(_TRIES):
            last = self._last()
            entry = chained(draft, last.seq + 1 if last else 1, last.hash if last else GENESIS)
            if applied("put_item", TableName=self.table_name, Item=to_item(_item(entry)),
                       ConditionExpression="attribute_not_exists(seq)"):
                return entry
        raise Contended(f"the audit log's end moved {_TRIES} times")

    def entries(self, newest_first: bool = False, limit: int | None = None) -> Iterator[Entry]:
        yield from self._query({"KeyConditionExpression": "#chain = :chain",
                                "ExpressionAttributeNames": {"#chain": "chain"},
                                "ExpressionAttributeValues": to_item({":chain": _CHAIN})}, newest_first, limit)

    def by_actor(self, telegram_id: int, limit: int | None = None) -> Iterator[Entry]:
        yield from self._query({"IndexName": "by_actor", "KeyConditionExpression": "actor_id = :id",
                                "ExpressionAttributeValues": to_item({":id": telegram_id})}, True, limit)

    def by_member(self, member_id: str, limit: int | None = None) -> Iterator[Entry]:
        yield from self._query({"IndexName": "by_member", "KeyConditionExpression": "member_id = :id",
                                "ExpressionAttributeValues": to_item({":id": member_id})}, True, limit)

    def _last(self) -> Entry | None:
        return next(self._query({"KeyConditionExpression": "#chain = :chain", "ConsistentRead": True,
                                 "ExpressionAttributeNames": {"#chain": "chain"},
                                 "ExpressionAttributeValues": to_item({":chain": _CHAIN})}, True, 1), None)

    def _query(self, request: dict[str, Any], newest_first: bool, limit: int | None) -> Iterator[Entry]:
        given = 0
        for page in client("dynamodb").get_paginator("query").paginate(
                TableName=self.table_name, ScanIndexForward=not newest_first, **request,
                PaginationConfig={"PageSize": min(limit, 100)} if limit else {}):
            for item in page["Items"]:
                yield _entry(from_item(item))
                given += 1
                if limit is not None and given >= limit:
                    return


def _item(entry: Entry) -> dict[str, Any]:
    fields = entry.model_dump(mode="json")
    actor = fields.pop("actor")
    return {**fields, "chain": _CHAIN, "actor": actor, "actor_id": actor["telegram_id"]}


def _entry(item: dict[str, Any]) -> Entry:
    return Entry.model_validate({key: value for key, value in item.items() if key not in ("chain", "actor_id")})
