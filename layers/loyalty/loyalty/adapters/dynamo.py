"""Plain-Python <-> DynamoDB attribute values, for the low-level client the repositories use; and the sparse,
sharded indexes the schedules read (spread over shards so their queries never meet one hot partition)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in values.items() if value is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _plain(_deserializer.deserialize(value)) for name, value in item.items()}


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal; points and kopecks are always integers (also inside maps)."""
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def shard_of(key: str, shards: int) -> int:
    """The shard of a sharded index an item with this key goes to: always the same one."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:2], "big") % shards


def query_shards(table: str, index: str, shards: int, condition: str, values: dict[str, Any],
                 projection: str | None = None) -> Iterator[dict[str, Any]]:
    """Every item of a sharded index that `condition` matches, shard by shard (`:s` is the shard in it)."""
    from loyalty.adapters.aws import client

    for shard in range(shards):
        for page in client("dynamodb").get_paginator("query").paginate(
            TableName=table, IndexName=index, KeyConditionExpression=condition,
            ExpressionAttributeValues=to_item({":s": shard, **values}),
            **({"ProjectionExpression": projection} if projection else {}),
        ):
            yield from map(from_item, page["Items"])


def query_index(table: str, index: str, condition: str, values: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every item of an index that `condition` matches (as the index projects it)."""
    from loyalty.adapters.aws import client

    for page in client("dynamodb").get_paginator("query").paginate(
        TableName=table, IndexName=index, KeyConditionExpression=condition, ExpressionAttributeValues=to_item(values),
    ):
        yield from map(from_item, page["Items"])


_BATCH_GET = 100  # BatchGetItem's most keys a request


def batch_items(table: str, keys: list[dict[str, Any]], consistent: bool = False) -> Iterator[dict[str, Any]]:
    """The items of `keys` that exist, in BatchGetItem's pages of 100, its unprocessed keys asked again."""
    from loyalty.adapters.aws import client

    for start in range(0, len(keys), _BATCH_GET):
        pending = [to_item(key) for key in keys[start:start + _BATCH_GET]]
        while pending:
            response = client("dynamodb").batch_get_item(
                RequestItems={table: {"Keys": pending, "ConsistentRead": consistent}})
            yield from map(from_item, response["Responses"].get(table, []))
            pending = response.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])


def conditional(operation: str, *, refused: Exception | None = None, **request: Any) -> dict[str, Any] | None:
    """One conditional DynamoDB write (`operation`: put_item, update_item, delete_item) with `request`: its response
    when it applied; when its condition was false, None, or `refused` raised (a domain error that says what the
    condition meant: "already claimed", "no such member"). Any other failure is raised as it is (AWS unavailable
    as the client translates it: StorageUnavailable)."""
    from botocore.exceptions import ClientError

    from loyalty.adapters.aws import client, error_code

    try:
        response: dict[str, Any] = getattr(client("dynamodb"), operation)(**request)
    except ClientError as error:
        if error_code(error) != "ConditionalCheckFailedException":
            raise
        if refused is not None:
            raise refused from error
        return None
    return response


def applied(operation: str, **request: Any) -> bool:
    """Whether a conditional write applied (its condition was true)."""
    return conditional(operation, **request) is not None


@dataclass(frozen=True)
class Seen:
    written: dict[str, Any] | None  # the item after the write; None: the condition was false …
    seen: dict[str, Any] | None  # … and then the item as the condition saw it (None: absent)


def update_seeing(**request: Any) -> Seen:
    """A conditional update_item that returns the item after it (`request` asks ReturnValues ALL_NEW) or, refused,
    the item as its condition saw it (ALL_OLD): a writer that guesses an item's state learns it from a refusal,
    with no read first."""
    from botocore.exceptions import ClientError

    from loyalty.adapters.aws import client, error_code

    try:
        response = client("dynamodb").update_item(ReturnValuesOnConditionCheckFailure="ALL_OLD", **request)
    except ClientError as error:
        if error_code(error) != "ConditionalCheckFailedException":
            raise
        item = error.response.get("Item")
        return Seen(None, from_item(item) if item else None)
    return Seen(from_item(response["Attributes"]), None)


def transact(items: list[dict[str, Any]]) -> set[int]:
    """Write `items` all or nothing: the positions of the items whose condition was false (empty: all written). A
    transaction another one conflicted with is Contended (nothing written: try again); any other failure is raised
    as it is."""
    return set(transact_seeing(items))


def transact_seeing(items: list[dict[str, Any]]) -> dict[int, dict[str, Any] | None]:
    """As `transact`, with what each refused item's condition saw: the item as it was, for an item written with
    ReturnValuesOnConditionCheckFailure ALL_OLD (None: absent, or not asked for). A writer that guesses an item's
    state writes at once, and learns it from a refusal, with no read first."""
    from botocore.exceptions import ClientError

    from loyalty.adapters.aws import cancellation_reasons, client
    from loyalty.domain.errors import Contended

    try:
        client("dynamodb").transact_write_items(TransactItems=items)
    except ClientError as error:
        reasons = cancellation_reasons(error) or []
        failed = {index for index, code in enumerate(reasons) if code == "ConditionalCheckFailed"}
        if failed:
            seen = error.response.get("CancellationReasons", [])
            return {index: from_item(seen[index]["Item"]) if "Item" in seen[index] else None for index in failed}
        if "TransactionConflict" in reasons:
            raise Contended("a concurrent transaction wrote the same items; nothing written") from error
        raise
    return {}


_DAYS_REMOVED = 7  # a write by the day removes this many days' attributes past the ones it keeps


def by_day(prefix: str, day: date, kept: int) -> tuple[dict[str, str], str]:
    """An attribute kept by the day (`<prefix>YYYYMMDD`: a day's count, a day's set), as expression names: `#d0` for
    `day`, `#d1`… for the `kept - 1` days before it; and a REMOVE clause for the week's days before those, so an item
    written now and then keeps only recent days (older ones linger only past a week without a write)."""
    def name(back: int) -> str:
        return f"{prefix}{day - timedelta(days=back):%Y%m%d}"
    kept_names = {f"#d{back}": name(back) for back in range(kept)}
    removed = {f"#d{back}": name(back) for back in range(kept, kept + _DAYS_REMOVED)}
    return {**kept_names, **removed}, "REMOVE " + ", ".join(removed)
