"""Receipt claims: a receipt's fiscal key is claimed once, by a conditional write, before any point."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from loyalty.adapters.aws import client, error_code
from loyalty.adapters.dynamo import to_item
from loyalty.domain.errors import ReceiptAlreadyClaimed


class ReceiptClaims:
    def __init__(self, table_name: str):
        self.table_name = table_name

    def claim(self, fiscal_key: str, member_id: str, submission_id: str, summary: dict[str, Any]) -> None:
        """Claim the key for this submission. Claiming again from the same submission (a redelivered
        message) succeeds; a claim by any other submission raises ReceiptAlreadyClaimed."""
        try:
            client("dynamodb").put_item(
                TableName=self.table_name,
                Item=to_item({
                    "fiscal_key": fiscal_key, "member_id": member_id, "submission_id": submission_id,
                    "claimed_at": datetime.now(UTC).isoformat(timespec="seconds"), **summary,
                }),
                ConditionExpression="attribute_not_exists(fiscal_key) OR submission_id = :mine",
                ExpressionAttributeValues=to_item({":mine": submission_id}),
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                raise ReceiptAlreadyClaimed(fiscal_key) from error
            raise
