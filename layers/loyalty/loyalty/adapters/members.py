"""Members table: one item per shopper, keyed by Telegram user id. Holds the wallet the ledger keeps."""

from __future__ import annotations

from botocore.exceptions import ClientError
from pydantic import BaseModel

from loyalty import clock
from loyalty.adapters.aws import client, error_code
from loyalty.adapters.dynamo import from_item, to_item


class Member(BaseModel):
    member_id: str
    chat_id: int
    language: str
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


class MembersRepository:
    def __init__(self, table_name: str):
        self.table_name = table_name

    def get(self, member_id: str) -> Member | None:
        response = client("dynamodb").get_item(
            TableName=self.table_name, Key=to_item({"member_id": member_id}), ConsistentRead=True
        )
        return Member.model_validate(from_item(response["Item"])) if "Item" in response else None

    def join(self, member_id: str, chat_id: int, language: str, referred_by: str | None = None) -> Member:
        """Create the member on first contact; later calls only refresh chat and language. An inviter is
        kept only from the very first contact: nobody can be invited once they have joined."""
        if referred_by and referred_by != member_id:
            try:
                return self._update(member_id, chat_id, language, {"referred_by": referred_by},
                                    condition="attribute_not_exists(member_id)")
            except ClientError as error:
                if error_code(error) != "ConditionalCheckFailedException":
                    raise
        return self._update(member_id, chat_id, language)

    def _update(self, member_id: str, chat_id: int, language: str, extra: dict[str, str] | None = None,
                condition: str | None = None) -> Member:
        values = {":chat": chat_id, ":lang": language, ":now": clock.stamp(), ":zero": 0,
                  **{f":{name}": value for name, value in (extra or {}).items()}}
        update = "SET chat_id = :chat, #lang = :lang, joined_at = if_not_exists(joined_at, :now), " \
                 "version = if_not_exists(version, :zero)" + "".join(f", {name} = :{name}" for name in extra or {})
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
