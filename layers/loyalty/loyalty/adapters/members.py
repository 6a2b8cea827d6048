"""Members table: one item per shopper, keyed by Telegram user id. Holds the cached point balance."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel

from loyalty.adapters.aws import client
from loyalty.adapters.dynamo import from_item, to_item


class Member(BaseModel):
    member_id: str
    chat_id: int
    language: str
    phone: str | None = None
    balance: int = 0
    version: int = 0
    pending_receipt: str | None = None  # a ReceiptSubmitted sent before the phone, as JSON
    joined_at: str


class MembersRepository:
    def __init__(self, table_name: str):
        self.table_name = table_name

    def get(self, member_id: str) -> Member | None:
        response = client("dynamodb").get_item(
            TableName=self.table_name, Key=to_item({"member_id": member_id}), ConsistentRead=True
        )
        return Member.model_validate(from_item(response["Item"])) if "Item" in response else None

    def join(self, member_id: str, chat_id: int, language: str) -> Member:
        """Create the member on first contact; later calls only refresh chat and language."""
        response = client("dynamodb").update_item(
            TableName=self.table_name,
            Key=to_item({"member_id": member_id}),
            UpdateExpression="SET chat_id = :chat, #lang = :lang, joined_at = if_not_exists(joined_at, :now), "
            "balance = if_not_exists(balance, :zero), version = if_not_exists(version, :zero)",
            ExpressionAttributeNames={"#lang": "language"},
            ExpressionAttributeValues=to_item(
                {":chat": chat_id, ":lang": language, ":now": _now(), ":zero": 0}
            ),
            ReturnValues="ALL_NEW",
        )
        return Member.model_validate(from_item(response["Attributes"]))

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
        return Member.model_validate({**old, "phone": phone})

    def keep_pending(self, member_id: str, submission: str) -> None:
        client("dynamodb").update_item(
            TableName=self.table_name,
            Key=to_item({"member_id": member_id}),
            UpdateExpression="SET pending_receipt = :submission",
            ExpressionAttributeValues=to_item({":submission": submission}),
        )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
