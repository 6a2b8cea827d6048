"""Promo codes table: a one-time code the bot issued, pointing at the hold that reserves its points.

The code is written in the same transaction as its hold (`put_item`), so there is never a code without
points behind it or points held without a code.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from loyalty.adapters.aws import client
from loyalty.adapters.dynamo import from_item, to_item
from loyalty.domain.codes import PromoCode, normalise_code

_KEEP_AFTER_EXPIRY = timedelta(days=90)  # what a support agent may still look up

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
