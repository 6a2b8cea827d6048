"""Promo codes table: a one-time code the bot issued, pointing at the hold that reserves its points.

The code is written in the same transaction as its hold (`put_item`), so there is never a code without
points behind it or points held without a code.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel

from loyalty.adapters.aws import client
from loyalty.adapters.dynamo import from_item, to_item

# No 0/O, 1/I: a shopper reads the code off a phone and types it into a checkout form.
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_KEEP_AFTER_EXPIRY = timedelta(days=90)  # what a support agent may still look up


class PromoCode(BaseModel):
    code: str
    member_id: str
    hold_id: str
    points: int
    expires_at: str


def new_code(length: int = 8) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def normalise_code(text: str) -> str:
    return "".join(text.split()).upper().replace("-", "")


class PromoCodes:
    def __init__(self, table_name: str):
        self.table_name = table_name

    def put_item(self, code: PromoCode, expires_at: datetime) -> dict[str, Any]:
        """The transaction item that creates the code (only if no such code exists)."""
        ttl = int((expires_at + _KEEP_AFTER_EXPIRY).timestamp())
        return {"Put": {"TableName": self.table_name, "Item": to_item({**code.model_dump(), "ttl": ttl}),
                        "ConditionExpression": "attribute_not_exists(code)"}}

    def find(self, code: str) -> PromoCode | None:
        key = normalise_code(code)
        if not key:  # "-", "--", spaces: no code at all (and DynamoDB refuses an empty key)
            return None
        response = client("dynamodb").get_item(TableName=self.table_name, Key=to_item({"code": key}),
                                               ConsistentRead=True)
        return PromoCode.model_validate(from_item(response["Item"])) if "Item" in response else None
