"""Each handler against moto server, invoked with the events its event source produces.

The worker's local stack without its pollers: a test puts a message in a queue and runs that queue's
poller once, so the handler gets real SQS records and the poller honours its batchItemFailures.
"""

import json
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pytest import TempPathFactory

from loyalty.adapters.claims import ReceiptClaims
from loyalty.adapters.program_file import load_program
from loyalty.adapters.queues import ChatOrderedQueue, SqsQueue
from loyalty.flows.receipt_check import ReceiptCheck
from loyalty.flows.submissions import update_key
from loyalty.settings import PointAccrualSettings
from loyalty.wiring.receipts import receipt_check
from loyalty_tools.local.stack import LocalStack
from tests.conftest import TEST_PROGRAM, worker_stack
from tests.fakes import MemoryQueue
from tests.telegram_updates import contact_of, telegram_update  # noqa: F401 (the integration tests' own)

R = TypeVar("R")


@pytest.fixture(scope="session")
def receipts_dir(tmp_path_factory: TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("receipts")


@pytest.fixture
def aws_env(receipts_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Repositories used directly by a test reach the same moto server as the functions. Set for each test: a
    module of another folder that sets and restores these itself may have run on this worker meanwhile."""
    for name, value in worker_stack().client_environment().items():
        monkeypatch.setenv(name, value)
    return receipts_dir


@pytest.fixture
def stack(aws_env: Path) -> LocalStack:
    """The worker's stack without its pollers, fresh for each test: a test puts a message in a queue and runs that
    queue's poller once."""
    return worker_stack().redeploy(receipts_dir=aws_env, program_file=TEST_PROGRAM, event_sources=False,
                                   retry_base_seconds=0)


def drain(stack: LocalStack, queue: str) -> list[Any]:
    """Every message now in `queue`, removed from it, as (body, attributes)."""
    sqs, url = stack.aws("sqs"), stack.template.queue_url(queue)
    found: list[tuple[Any, dict[str, str]]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"],
                                       MessageSystemAttributeNames=["All"]).get("Messages", [])
        if not messages:
            return found
        for message in messages:
            attributes = {k: v["StringValue"] for k, v in message.get("MessageAttributes", {}).items()}
            found.append((_json_or_text(message["Body"]), attributes))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def _json_or_text(body: str) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # a parked body may be JSON nested too deep to read
        return body


def bodies(stack: LocalStack, queue: str) -> list[Any]:
    return [body for body, _ in drain(stack, queue)]


def submissions(stack: LocalStack) -> list[Any]:
    """The receipts submitted to AccrualQueue (drained with the ledger commands beside them): a photo's or a file's
    as the webhook submitted it, a QR code's text as the edge forwarded it (its submission id made the same way)."""
    return [body if body.get("kind") == "submitted" else
            {**body, "submission_id": update_key(body["message"]["update_id"]), "qr": body["message"]["text"]}
            for body in bodies(stack, "AccrualQueue") if body.get("kind") in ("submitted", "qr")]


# What the webhook answered updates with, in order (the one reply it gave in its HTTP answer): each test starts with
# none (_no_answers_yet).
_ANSWERED: list[dict[str, Any]] = []


@pytest.fixture(autouse=True)
def _no_answers_yet() -> None:
    _ANSWERED.clear()


def post_update(stack: LocalStack, data: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """POST to the webhook as Telegram does; a reply in its answer is kept, as Telegram takes it, for `replies`."""
    request = urllib.request.Request(stack.webhook_url, data=data, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, answer = int(response.status), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    method = json.loads(answer or b"{}")
    if isinstance(method, dict) and method.get("method") == "sendMessage":
        # The outbox's messages so far came before this answer: keep them first, in their order.
        _ANSWERED.extend(bodies(stack, "OutboxQueue"))
        _ANSWERED.append({"chat_id": method["chat_id"], "text": method["text"],
                                     "reply_markup": method.get("reply_markup"),
                                     "html": method.get("parse_mode") == "HTML"})
    return status, answer


def replies(stack: LocalStack) -> list[dict[str, Any]]:
    """Every message the bot has sent since the last call, in order: those it answered updates with and those on
    OutboxQueue (taken from it)."""
    answered = [*_ANSWERED, *bodies(stack, "OutboxQueue")]
    _ANSWERED.clear()
    return answered


def send(stack: LocalStack, queue: str, body: str | dict[str, Any], group: str = "test") -> None:
    """Put `body` on `queue`, as its producers would: a FIFO queue's message in a group (the outbox's: its chat),
    with its own deduplication id."""
    text = body if isinstance(body, str) else json.dumps(body)
    url = stack.template.queue_url(queue)
    fifo = {}
    if url.endswith(".fifo"):
        chat = json.loads(text).get("chat_id") if queue == "OutboxQueue" else None
        fifo = {"MessageGroupId": str(chat or group), "MessageDeduplicationId": uuid.uuid4().hex}
    stack.aws("sqs").send_message(QueueUrl=url, MessageBody=text, **fifo)


def all_at_once(count: int, work: Callable[[int], R]) -> list[R]:
    """work(0) … work(count - 1) in threads released together; their results in order (a worker's error is
    raised here, so no thread dies silently)."""
    start = threading.Barrier(count)

    def run(n: int) -> R:
        start.wait()
        return work(n)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def accepted_only(stack: LocalStack, program_file: Path | str) -> tuple[ReceiptCheck, MemoryQueue]:
    """PointAccrualFunction's receipt check as the function wires it, on `program_file`, except that what it accepts
    is kept in the returned queue instead of credited: a test credits it itself, at the moment it chooses."""
    settings = PointAccrualSettings.model_validate({**stack.functions.environment("PointAccrualFunction"),
                                                    "PROGRAM_FILE": str(program_file)})
    accepted = MemoryQueue()
    check = receipt_check(settings, load_program(str(program_file)),
                          ReceiptClaims(settings.CLAIMS_TABLE, settings.MEMBERS_TABLE),
                          ChatOrderedQueue(settings.OUTBOX_QUEUE_URL), SqsQueue(settings.ACCRUAL_QUEUE_URL), accepted)
    return check, accepted
