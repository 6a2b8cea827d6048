"""The signed webhook on the local stack, for a brand without Mindbox: the local receiver verifies every delivery
as docs/crm.md tells a brand to (signature over timestamp and body, tolerance, replays, idempotency keys)."""

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from loyalty_tools.local.stack import LocalStack
from tests.e2e.journeys import CREAM, buy, join, member, seed_stack

pytestmark = pytest.mark.e2e


def webhook_crm(document: dict[str, Any]) -> None:
    document["crm"] = {"kind": "webhook"}


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with seed_stack(webhook_crm, retry_base_seconds=1, parameter_overrides={"CrmRetryCapSeconds": "2"}) as stack:
        yield stack


def post(stack: LocalStack, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
    request = urllib.request.Request(stack.crm_webhook.url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def signed(secret: str, timestamp: str | int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def test_every_event_arrives_signed_once_and_a_replay_is_refused(stack: LocalStack) -> None:
    ann = join(stack)
    buy(stack, ann, CREAM)
    receiver = stack.crm_webhook
    events = list(receiver.events.values())
    assert [event["type"] for event in events] == ["member_registered", "points_changed", "receipt_accepted",
                                                   "points_changed", "level_changed"]
    assert events[0]["phone"] == f"+7916{ann.chat_id:07d}" and events[0]["consent"] is True
    assert sum(event["points"] for event in events if event["type"] == "points_changed") == \
        int(member(stack, ann)["available"]) + int(member(stack, ann)["pending"])
    assert receiver.counts["accepted"] == len(events) and receiver.counts["bad_signature"] == 0

    headers, body = receiver.deliveries[0]  # captured on the way, sent again as it was
    assert post(stack, headers, body) == (409, {"error": "replayed"})
    tampered = body.replace(b'"consent":true', b'"consent":false')
    assert post(stack, headers, tampered)[0] == 401
    stale = int(time.time()) - 600  # signed with the real secret, but ten minutes ago
    assert post(stack, {**headers, "X-Loyalty-Signature": signed(stack.crm_secret, stale, body)}, body) == \
        (401, {"error": "stale"})
    assert post(stack, {**headers, "X-Loyalty-Signature": signed("not-the-secret", int(time.time()), body)},
                body)[0] == 401
    # The sender's retry signs anew, a second or more after the delivery it repeats (a signature from the same
    # second is the same signature: a replay), however fast this machine got here.
    original = next(value for name, value in headers.items() if name.lower() == "x-loyalty-signature")
    sent_at = int(original.split(",")[0].removeprefix("t="))
    fresh = {**headers, "X-Loyalty-Signature": signed(stack.crm_secret, max(int(time.time()), sent_at + 1), body)}
    assert post(stack, fresh, body) == (200, {"status": "duplicate"})  # the sender's retry: not applied twice
    assert len(receiver.events) == len(events)


def test_a_receiver_that_is_down_gets_every_event_later_once(stack: LocalStack) -> None:
    stack.crm_webhook.refuse_with = 503
    stack.backlogged.add("CrmQueue")
    bob = join(stack)
    buy(stack, bob, CREAM)
    time.sleep(3)
    assert stack.crm_webhook.counts["refused"] >= 2
    mine = [e for e in stack.crm_webhook.events.values() if e["member_id"] == str(bob.chat_id)]
    assert mine == []
    stack.crm_webhook.refuse_with = None
    stack.backlogged.clear()
    stack.wait_idle(timeout=60)
    kinds = [e["type"] for e in stack.crm_webhook.events.values() if e["member_id"] == str(bob.chat_id)]
    assert kinds == ["member_registered", "points_changed", "receipt_accepted", "points_changed", "level_changed"]
    assert stack.dead_letters("CrmDeadLetterQueue") == []
