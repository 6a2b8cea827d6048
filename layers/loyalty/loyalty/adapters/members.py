"""Members table: one item per shopper, keyed by Telegram user id. Holds the wallet the ledger keeps."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel

from loyalty import clock
from loyalty.adapters.aws import client, error_code
from loyalty.adapters.dynamo import from_item, to_item
from loyalty.adapters.ledger import DUE_SHARDS as LAPSE_SHARDS  # the same shards, the same hash


def imported_member_id(phone: str) -> str:
    """The member an import makes of a phone without a Telegram id, until a shopper proves the phone in the bot."""
    return f"phone:{phone}"


class Member(BaseModel):
    member_id: str
    chat_id: int | None = None  # None: imported, never talked to the bot
    language: str = "ru"
    phone: str | None = None
    available: int = 0  # the balances are written by the ledger (adapters/ledger.py), in its transactions
    pending: int = 0
    held: int = 0
    debt: int = 0
    level: str | None = None
    referred_by: str | None = None
    version: int = 0
    pending_receipt: str | None = None  # a ReceiptSubmitted sent before the phone, as JSON
    phone_before: str | None = None  # save_phone only: the phone the member had before this one
    joined_at: str
    joined_via: str = "organic"  # organic, referral, campaign:<name> (a /start link's)
    subscribed: bool = True  # False once they blocked the bot: no campaign reaches them
    last_touch: dict[str, Any] | None = None  # the last campaign message delivered (attribution)
    name: str | None = None  # from an import
    merged_into: str | None = None  # an imported member whose points moved to the shopper who proved the phone


# What a campaign run reads of a member (the lapse index projects exactly this).
AUDIENCE_ATTRIBUTES = ("member_id", "wallet", "chat_id", "language", "subscribed", "joined_via", "referred_by")
LAPSE_INDEX = "by_last_purchase"


class MembersRepository:
    def __init__(self, table_name: str):
        self.table_name = table_name

    def get(self, member_id: str) -> Member | None:
        response = client("dynamodb").get_item(
            TableName=self.table_name, Key=to_item({"member_id": member_id}), ConsistentRead=True
        )
        return Member.model_validate(from_item(response["Item"])) if "Item" in response else None

    def join(self, member_id: str, chat_id: int, language: str, referred_by: str | None = None,
             via: str | None = None) -> Member:
        """Create the member on first contact; later calls only refresh chat and language. An inviter (and
        how they came: `via` a campaign's link) is kept only from the very first contact."""
        first: dict[str, str] = {}
        if referred_by and referred_by != member_id:
            first = {"referred_by": referred_by, "joined_via": "referral"}
        elif via:
            first = {"joined_via": via}
        if first:
            try:
                return self._update(member_id, chat_id, language, first, condition="attribute_not_exists(member_id)")
            except ClientError as error:
                if error_code(error) != "ConditionalCheckFailedException":
                    raise
        return self._update(member_id, chat_id, language)

    def unsubscribe(self, member_id: str) -> None:
        """The member blocked the bot: campaigns stop reaching them (until they /start the bot again)."""
        client("dynamodb").update_item(
            TableName=self.table_name, Key=to_item({"member_id": member_id}), UpdateExpression="SET subscribed = :no",
            ConditionExpression="attribute_exists(member_id)", ExpressionAttributeValues=to_item({":no": False}))

    def retire(self, member_id: str, merged_into: str) -> None:
        """An imported member whose phone a shopper proved: the phone is theirs now (the phone index finds them
        only), and this member says where its points went."""
        client("dynamodb").update_item(
            TableName=self.table_name, Key=to_item({"member_id": member_id}),
            UpdateExpression="SET merged_into = :into REMOVE phone", ConditionExpression="attribute_exists(member_id)",
            ExpressionAttributeValues=to_item({":into": merged_into}))

    def touched_item(self, member_id: str, touch: dict[str, Any]) -> dict[str, Any]:
        """The transaction item that makes `touch` the member's last campaign message: the one a purchase is
        attributed to."""
        return {"Update": {"TableName": self.table_name, "Key": to_item({"member_id": member_id}),
                           "UpdateExpression": "SET last_touch = :t",
                           "ConditionExpression": "attribute_exists(member_id)",
                           "ExpressionAttributeValues": to_item({":t": touch})}}

    def lapsed(self, after: str, until: str) -> Iterator[dict[str, Any]]:
        """Members whose last purchase was after `after` and at or before `until` (stamps), through the lapse
        index: about as many items read as members found."""
        for shard in range(LAPSE_SHARDS):
            for page in client("dynamodb").get_paginator("query").paginate(
                TableName=self.table_name, IndexName=LAPSE_INDEX,
                KeyConditionExpression="lapse_shard = :s AND last_purchase_at BETWEEN :a AND :b",
                ExpressionAttributeValues=to_item({":s": shard, ":a": after, ":b": until}),
            ):
                yield from (item for item in map(from_item, page["Items"]) if item["last_purchase_at"] > after)

    def everyone(self) -> Iterator[dict[str, Any]]:
        """Every member (a broadcast to a segment no index narrows)."""
        for page in client("dynamodb").get_paginator("scan").paginate(
            TableName=self.table_name, ProjectionExpression=", ".join(f"#{n}" for n in AUDIENCE_ATTRIBUTES),
            ExpressionAttributeNames={f"#{n}": n for n in AUDIENCE_ATTRIBUTES},
        ):
            yield from map(from_item, page["Items"])

    def _update(self, member_id: str, chat_id: int, language: str, extra: dict[str, str] | None = None,
                condition: str | None = None) -> Member:
        values = {":chat": chat_id, ":lang": language, ":now": clock.stamp(), ":zero": 0, ":yes": True,
                  **{f":{name}": value for name, value in (extra or {}).items()}}
        # A member who talks to the bot again has unblocked it: campaigns may reach them again.
        update = "SET chat_id = :chat, #lang = :lang, joined_at = if_not_exists(joined_at, :now), " \
                 "version = if_not_exists(version, :zero), subscribed = :yes" + \
                 "".join(f", {name} = :{name}" for name in extra or {})
        response = client("dynamodb").update_item(
            TableName=self.table_name,
            Key=to_item({"member_id": member_id}),
            UpdateExpression=update,
            ExpressionAttributeNames={"#lang": "language"},
            ExpressionAttributeValues=to_item(values),
            ReturnValues="ALL_NEW",
            **({"ConditionExpression": condition} if condition else {}),
        )
        return Member.model_validate(from_item(response["Attributes"]))

    def find_by_phone(self, phone: str) -> str | None:
        """The member who shared this phone (E.164), through the phone index."""
        response = client("dynamodb").query(
            TableName=self.table_name, IndexName="by_phone", KeyConditionExpression="phone = :p",
            ExpressionAttributeValues=to_item({":p": phone}), Limit=1,
        )
        items = response["Items"]
        return from_item(items[0])["member_id"] if items else None

    def save_phone(self, member_id: str, phone: str) -> Member:
        """Store the phone and hand back (and clear) a receipt the shopper sent before sharing it."""
        response = client("dynamodb").update_item(
            TableName=self.table_name,
            Key=to_item({"member_id": member_id}),
            UpdateExpression="SET phone = :phone REMOVE pending_receipt",
            ConditionExpression="attribute_exists(member_id)",
            ExpressionAttributeValues=to_item({":phone": phone}),
            ReturnValues="ALL_OLD",
        )
        old = from_item(response["Attributes"])
        return Member.model_validate({**old, "phone": phone, "phone_before": old.get("phone")})

    def keep_pending(self, member_id: str, submission: str) -> None:
        client("dynamodb").update_item(
            TableName=self.table_name,
            Key=to_item({"member_id": member_id}),
            UpdateExpression="SET pending_receipt = :submission",
            ExpressionAttributeValues=to_item({":submission": submission}),
        )
