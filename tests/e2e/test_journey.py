"""End to end through the embedded local stack: the shopper talks to the Telegram emulator, which calls
the webhook over HTTP; every queue is polled and every function runs, as in the cloud."""

import io
import itertools
import json
import tempfile
import urllib.request
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from loyalty.adapters.dynamo import from_item, to_item
from loyalty_tools.local.receipts import marketplace_receipt, qr_of
from loyalty_tools.local.shopper import Shopper
from loyalty_tools.local.stack import LocalStack
from tests.conftest import TEST_PROGRAM, deployed
from tests.e2e.journeys import loyalty as operator

pytestmark = pytest.mark.e2e
BRAND_SUPPLIER = "7700000024"
_ids = itertools.count(1)


class Logs(io.StringIO):
    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.getvalue().splitlines() if line.startswith("{")]


LOGS = Logs()  # what this module's stack logged


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    logs = LOGS
    with tempfile.TemporaryDirectory() as receipts, deployed(
        receipts_dir=Path(receipts), program_file=TEST_PROGRAM, retry_base_seconds=0, log_stream=logs,
    ) as stack:
        yield stack


def new_shopper(stack: LocalStack, language: str = "ru") -> Shopper:
    shopper = Shopper(stack.telegram.url, user_id=900_000 + next(_ids), language_code=language)
    shopper.say("/start")
    shopper.wait_for_bot_messages(1)
    shopper.share_phone("+79161234567")
    shopper.wait_for_bot_messages(2)
    return shopper


def new_receipt(stack: LocalStack, lines: Sequence[tuple[str, int, int]] = (("Крем", 45000, 2),)) -> str:
    raw = marketplace_receipt(BRAND_SUPPLIER, list(lines), fd=next(_ids))
    stack.receipts.add(raw)
    return qr_of(raw)


def balance(stack: LocalStack, shopper: Shopper) -> int:
    item = stack.aws("dynamodb").get_item(TableName="MembersTable", Key=to_item({"member_id": str(shopper.chat_id)}))
    return int(from_item(item["Item"]).get("available", 0))


def emulator(url: str, path: str, payload: dict[str, Any]) -> Any:
    request = urllib.request.Request(url + path, data=json.dumps(payload).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def test_a_qr_receipt_costs_at_most_eight_aws_requests_from_end_to_end(stack: LocalStack) -> None:
    """The budget of issue 29: "чек принят", the check and claim, the points with the receipt's follow-ups and
    campaign attribution, "+N баллов", the figures and the CRM event, at most 8 requests from the functions for a
    member's first receipt of the minute (Lambda's own receives of the queues come on top). A capability that needs
    one more on this path says why in its commit, and raises this number with it."""
    anna, boris = new_shopper(stack), new_shopper(stack)
    # What a container reads once a minute (the console's changes) is read now, by another shopper's receipt: the
    # stack's clock moved past the minute first, so the one measured falls within the next.
    stack.travel(stack.now() + timedelta(seconds=61))
    boris.say(new_receipt(stack))
    stack.wait_idle()
    before = stack.moto.counter.snapshot_by_function()
    anna.say(new_receipt(stack))
    assert anna.wait_for_bot_messages(4)[-1].startswith("+90 баллов")
    stack.wait_idle()
    spent = stack.moto.counter.snapshot_by_function() - before
    by_function: dict[str, dict[str, int]] = {}
    for (function, service, operation), count in sorted(spent.items()):
        by_function.setdefault(function, {})[f"{service}.{operation}"] = count
    # A secret is read once in five minutes per container (Powertools Parameters' cache), whatever the receipts.
    per_receipt = sum(count for (_, service, _), count in spent.items() if service != "ssm")
    assert per_receipt <= 8, by_function


def test_a_receipt_becomes_points_and_a_second_sending_earns_nothing(stack: LocalStack) -> None:
    anna, boris = new_shopper(stack), new_shopper(stack, language="en")
    qr = new_receipt(stack, [("Крем", 45000, 2), ("Сыворотка", 129000, 1)])
    anna.say(qr)
    assert anna.wait_for_bot_messages(4)[2:] == [
        "Чек принят, проверяю. Это займёт до минуты.",
        "+219 баллов за покупку на Wildberries. На счёте 219 баллов.",
    ]
    anna.say(qr)
    assert anna.wait_for_bot_messages(6)[-1] == "Этот чек уже зарегистрирован, повторно баллы не начисляются."
    boris.say(qr)
    assert boris.wait_for_bot_messages(4)[-1] == "This receipt is already registered; points are not credited twice."
    stack.wait_idle()
    assert (balance(stack, anna), balance(stack, boris)) == (219, 0)


def test_a_second_receipt_adds_to_the_balance(stack: LocalStack) -> None:
    anna = new_shopper(stack)
    for expected_count, qr in ((4, new_receipt(stack)), (6, new_receipt(stack))):
        anna.say(qr)
        anna.wait_for_bot_messages(expected_count)
    assert anna.bot_messages()[-1] == "+90 баллов за покупку на Wildberries. На счёте 180 баллов."


def test_a_webhook_call_without_the_secret_is_refused(stack: LocalStack) -> None:
    update = {"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"},
                                          "from": {"id": 1, "is_bot": False, "first_name": "X"}, "text": "/start"}}
    refused = emulator(stack.telegram.url, "/emulator/raw", {"body": json.dumps(update), "secret": "guess"})
    assert refused["status"] == 403


def test_a_redelivered_update_gets_one_answer(stack: LocalStack) -> None:
    anna = new_shopper(stack)
    sent = anna.say(new_receipt(stack))
    anna.wait_for_bot_messages(4)
    assert anna.redeliver(sent["update"]["update_id"])["status"] == 200
    stack.wait_idle()
    assert len(anna.bot_messages()) == 4 and balance(stack, anna) == 90


def test_a_receipt_service_failure_is_retried_and_then_succeeds(stack: LocalStack) -> None:
    anna = new_shopper(stack)
    qr = new_receipt(stack)
    emulator(stack.receipts.url, "/emulator/fail", {"code": 2, "times": 2})
    anna.say(qr)
    assert anna.wait_for_bot_messages(4)[-1] == "+90 баллов за покупку на Wildberries. На счёте 90 баллов."
    retries = [line for line in LOGS.lines() if line["message"] == "message failed, will retry"]
    assert [line["attempt"] for line in retries[-2:]] == [1, 2]


def test_a_poison_message_ends_in_the_dead_letter_queue_with_its_reason_logged(stack: LocalStack) -> None:
    stack.aws("sqs").send_message(QueueUrl=stack.template.queue_url("AccrualQueue"), MessageBody='{"bad": 1}')
    stack.wait_idle()
    (parked,) = stack.dead_letters("AccrualDeadLetterQueue")
    assert parked["body"] == '{"bad": 1}'
    assert parked["attributes"]["reason"].startswith("malformed AccrualQueue message")
    logged = [line for line in LOGS.lines() if line["message"] == "message dead-lettered"]
    assert logged[-1]["reason"] == parked["attributes"]["reason"]


def test_a_message_that_keeps_failing_reaches_the_dead_letter_queue_after_max_receive_count(stack: LocalStack) -> None:
    anna = new_shopper(stack)
    emulator(stack.telegram.url, f"/emulator/chats/{anna.chat_id}/fail", {"status": 500, "times": 100})
    anna.say("привет")  # its answer ("not a receipt") goes through the outbox, which keeps failing
    stack.wait_idle(timeout=60)
    (parked,) = stack.dead_letters("OutboxDeadLetterQueue")
    max_receive = json.loads(stack.aws("sqs").get_queue_attributes(
        QueueUrl=stack.template.queue_url("OutboxQueue"), AttributeNames=["RedrivePolicy"],
    )["Attributes"]["RedrivePolicy"])["maxReceiveCount"]
    assert json.loads(parked["body"])["chat_id"] == anna.chat_id
    assert parked["receive_count"] >= int(max_receive)


def test_an_outage_longer_than_the_retries_tells_the_shopper_and_a_redrive_credits_the_receipt_once(
        stack: LocalStack) -> None:
    anna = new_shopper(stack)
    attempts = int(stack.template.parameters["ReceiptFetchAttempts"])
    emulator(stack.receipts.url, "/emulator/fail", {"http_status": 503, "times": attempts})
    anna.say(new_receipt(stack))
    assert anna.wait_for_bot_messages(4)[-1].startswith("Чек задерживается")
    stack.wait_idle()
    assert balance(stack, anna) == 0

    code, listed, _ = operator(stack, "dlq", "list")
    assert code == 0 and any(line.split()[:2] == ["AccrualDeadLetterQueue", "1"] for line in listed.splitlines())
    code, listed, _ = operator(stack, "dlq", "list", "AccrualQueue")
    assert code == 0 and f"gave up after {attempts} attempts: receipt service unavailable" in listed
    assert "1 message(s) in AccrualDeadLetterQueue" in listed

    code, replayed, _ = operator(stack, "dlq", "redrive", "AccrualQueue")  # the service is back
    assert (code, replayed.strip()) == (0, "replayed 1 message(s) from AccrualDeadLetterQueue into AccrualQueue")
    assert anna.wait_for_bot_messages(5)[-1] == "+90 баллов за покупку на Wildberries. На счёте 90 баллов."
    code, replayed, _ = operator(stack, "dlq", "redrive", "AccrualQueue")
    assert replayed.strip() == "replayed 0 message(s) from AccrualDeadLetterQueue into AccrualQueue"
    stack.wait_idle()
    assert balance(stack, anna) == 90 and len(anna.bot_messages()) == 5
    assert operator(stack, "ledger", "verify")[0] == 0


def test_the_webhook_dead_letters_cannot_be_replayed_and_an_unknown_queue_is_named(stack: LocalStack) -> None:
    code, _, error = operator(stack, "dlq", "redrive", "WebhookDeadLetterQueue")
    assert code == 2 and error.startswith("error: WebhookDeadLetterQueue holds updates the webhook refused")
    code, _, error = operator(stack, "dlq", "list", "NoSuchQueue")
    assert code == 2 and "no dead-letter queue called 'NoSuchQueue'" in error and "AccrualDeadLetterQueue" in error
