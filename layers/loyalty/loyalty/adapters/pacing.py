"""A pace shared by every invocation: at most `per_second` calls a second, however many Lambdas run at once.

Each call takes the next free slot from one DynamoDB item (the generic cell rate algorithm: the item holds the
theoretical arrival time of the next call) and waits for it. A writer that loses the race reads again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal

from botocore.exceptions import ClientError

from loyalty import deadline
from loyalty.adapters.aws import client, error_code
from loyalty.adapters.dynamo import from_item, to_item
from loyalty.domain.errors import Contended

_ATTEMPTS = 100


class Pace:
    def __init__(self, table_name: str, name: str, per_second: float, now: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep):
        self.table_name = table_name
        self.key = to_item({"campaign": "_pacing", "key": name})
        self.interval = 1.0 / per_second
        self.now = now
        self.sleep = sleep

    def wait(self) -> None:
        """Return when this call's slot has come."""
        for _ in range(_ATTEMPTS):
            response = client("dynamodb").get_item(TableName=self.table_name, Key=self.key, ConsistentRead=True)
            seen = from_item(response["Item"]).get("tat") if "Item" in response else None
            now = self.now()
            slot = max(float(seen or 0), now)
            try:
                client("dynamodb").update_item(
                    TableName=self.table_name, Key=self.key, UpdateExpression="SET tat = :next",
                    ConditionExpression="attribute_not_exists(tat)" if seen is None else "tat = :seen",
                    ExpressionAttributeValues=to_item({":next": Decimal(str(round(slot + self.interval, 6))),
                                                       **({} if seen is None else {":seen": Decimal(str(seen))})}))
            except ClientError as error:
                if error_code(error) != "ConditionalCheckFailedException":
                    raise
                continue  # another sender took that slot: take the next
            if slot > now:
                if not deadline.enough_for(slot - now):
                    raise Contended("no slot to send in before the invocation ends")
                self.sleep(slot - now)
            return
        raise Contended("the sending pace kept being taken by other senders")
