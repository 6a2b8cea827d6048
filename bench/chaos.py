"""The faults `make chaos` injects into the local stack while the shoppers run (bench/load.py).

- The receipt service fails 30% of its calls (HTTP 503, or code 2 or 5) and answers each after 0.1–1 s.
- Mindbox answers 503 to everything for the first MINDBOX_DOWN_SECONDS.
- Telegram answers 429 (retry after 1 s) to the first two messages the bot sends each shopper.
- DynamoDB, at the functions' own boto3 clients: 3% of calls throttled (as if botocore's retries had run out) and
  8% of transactions cancelled by a conflicting transaction.
- Queue handlers killed mid-batch: 10% of the batches of the receipt, points, Telegram and CRM consumers have
  their first half processed and then the invocation dies before it answers; SQS gives the whole batch again
  after its visibility timeout (shortened to a second here, so the run does not wait minutes).
"""

from __future__ import annotations

import json
import random
import threading
import urllib.request
from collections import Counter
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from loyalty_tools.local.aws import PLUMBING_ACCESS_KEY
from loyalty_tools.local.stack import LocalStack

RECEIPT_FAIL_RATIO = 0.3
RECEIPT_DELAY_SECONDS = (0.1, 1.0)
MINDBOX_DOWN_SECONDS = 30
TELEGRAM_429_PER_CHAT = 2
DYNAMODB_THROTTLED = 0.03
TRANSACTIONS_CONFLICTING = 0.08
BATCHES_KILLED = 0.10
KILLABLE = ("PointAccrualFunction", "TelegramSenderFunction", "CrmSyncFunction")


class Killed(Exception):
    """The invocation died (out of memory, a timeout, the host gone) before it answered."""


class Faults:
    def __init__(self, stack: LocalStack, chat_ids: list[int], seed: int = 7):
        self.stack = stack
        self.chat_ids = chat_ids
        self.random = random.Random(seed)
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()
        self._original_call = BaseClient._make_api_call
        self._original_invoke = stack.functions.invoke
        self._mindbox_timer: threading.Timer | None = None

    def start(self) -> None:
        self.stack.receipts.unreliable(RECEIPT_FAIL_RATIO, *RECEIPT_DELAY_SECONDS)
        self.stack.mindbox.fail(503)
        self._mindbox_timer = threading.Timer(MINDBOX_DOWN_SECONDS, self.stack.mindbox.recover)
        self._mindbox_timer.start()
        for chat_id in self.chat_ids:
            _post(self.stack.telegram.url, f"/emulator/chats/{chat_id}/fail",
                  {"status": 429, "retry_after": 1, "times": TELEGRAM_429_PER_CHAT})
        faults = self

        def make_api_call(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
            faults._dynamodb_fault(client, operation)
            return faults._original_call(client, operation, params)

        setattr(BaseClient, "_make_api_call", make_api_call)  # noqa: B010 (every client's calls pass the faults)
        setattr(self.stack.functions, "invoke", self._invoke)  # noqa: B010

    def stop(self) -> None:
        setattr(BaseClient, "_make_api_call", self._original_call)  # noqa: B010
        setattr(self.stack.functions, "invoke", self._original_invoke)  # noqa: B010
        self.counts["receipt_service_failures"] = self.stack.receipts.chaos_failures
        self.stack.receipts.unreliable(0)
        if self._mindbox_timer:
            self._mindbox_timer.join()
        self.counts["mindbox_503"] = self.stack.mindbox.counts["http_503"]
        state = self.stack.telegram.state
        with state.lock:
            unserved = sum(len(state.failures.get(chat_id, [])) for chat_id in self.chat_ids)
        self.counts["telegram_429"] = TELEGRAM_429_PER_CHAT * len(self.chat_ids) - unserved

    def report(self) -> dict[str, Any]:
        return {"injected": dict(sorted(self.counts.items())), "settings": {
            "receipt_service_fail_ratio": RECEIPT_FAIL_RATIO, "receipt_service_delay_seconds": RECEIPT_DELAY_SECONDS,
            "mindbox_down_seconds": MINDBOX_DOWN_SECONDS, "telegram_429_per_chat": TELEGRAM_429_PER_CHAT,
            "dynamodb_throttled_ratio": DYNAMODB_THROTTLED, "transactions_conflicting_ratio":
                TRANSACTIONS_CONFLICTING, "batches_killed_ratio": BATCHES_KILLED}}

    # ------------------------------------------------------------------ DynamoDB, at the client
    def _dynamodb_fault(self, client: BaseClient, operation: str) -> None:
        if client.meta.service_model.service_name != "dynamodb" or _is_plumbing(client):
            return
        with self.lock:
            roll = self.random.random()
        if roll < DYNAMODB_THROTTLED:
            self._count("dynamodb_throttled")
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException",
                                         "Message": "injected: throughput exceeded"}}, operation)
        if operation == "TransactWriteItems" and roll < DYNAMODB_THROTTLED + TRANSACTIONS_CONFLICTING:
            self._count("transaction_conflicts")
            raise ClientError({"Error": {"Code": "TransactionCanceledException",
                                         "Message": "Transaction cancelled [TransactionConflict]"},
                               "CancellationReasons": [{"Code": "TransactionConflict",
                                                        "Message": "injected: another transaction"}]}, operation)

    # ------------------------------------------------------------------ handlers killed mid-batch
    def _invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        records = event.get("Records") if isinstance(event, dict) else None
        with self.lock:
            kill = bool(records) and logical_id in KILLABLE and self.random.random() < BATCHES_KILLED
        if not kill:
            return self._original_invoke(logical_id, event)
        assert records is not None
        done = records[: max(1, len(records) // 2)]
        self._original_invoke(logical_id, {**event, "Records": done})  # its effects happen…
        sqs = self.stack.aws("sqs")
        for record in records:  # …then it dies: SQS gives every record of the batch again, later
            name = record["eventSourceARN"].rsplit(":", 1)[-1].removesuffix(".fifo")
            sqs.change_message_visibility(QueueUrl=self.stack.template.queue_url(name),
                                          ReceiptHandle=record["receiptHandle"], VisibilityTimeout=1)
        self._count("batches_killed")
        raise Killed(f"{logical_id} killed after {len(done)} of {len(records)} records")

    def _count(self, name: str) -> None:
        with self.lock:
            self.counts[name] += 1


def _is_plumbing(client: BaseClient) -> bool:
    credentials = getattr(client._request_signer, "_credentials", None)
    return getattr(credentials, "access_key", None) == PLUMBING_ACCESS_KEY


def _post(url: str, path: str, payload: dict[str, Any]) -> None:
    request = urllib.request.Request(url + path, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).close()

