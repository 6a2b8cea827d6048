"""The inputs that found bugs (the probe of 2026-11-24 and the fuzzers since), replayed against the local stack over
HTTP: each must get a clean answer or a clean refusal, never a server error."""

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from loyalty_tools.local.stack import LocalStack
from tests.integration.conftest import drain
from tests.integration.test_bot_webhook import post
from tests.telegram_updates import telegram_update


def api(stack: LocalStack, path: str, raw: str, key: str = "corpus-1") -> tuple[int, str]:
    request = urllib.request.Request(stack.api.url + path, data=raw.encode(), method="POST", headers={
        "Content-Type": "application/json", "x-api-key": stack.api_key, "Idempotency-Key": key})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


HOLD = '{"order_id": "o-1", "points": %s}'


@pytest.mark.parametrize("raw, status, names", [
    (HOLD % ("9" * 4400), 422, "4,300 digits"),  # beyond Python's limit on reading an integer
    (HOLD % '"10"', 422, "points"), (HOLD % "2.0", 422, "points"), (HOLD % "true", 422, "points"),
    (HOLD % "-5", 422, "points"),
    ("[" * 3000 + "]" * 3000, 422, "nested too deep"),
    ('{"order_id": ' * 3000 + "1" + "}" * 3000, 422, "nested too deep"),
])
def test_hostile_hold_bodies_are_refused_naming_what_is_wrong(stack: LocalStack, raw: str, status: int,
                                                              names: str) -> None:
    answer, body = api(stack, "/members/601/holds", raw)
    assert answer == status, body
    assert names in body


@pytest.mark.parametrize("code", ["-", "--", "%2D%2D", "A" * 200, "%00", "..%2F..%2Fetc"])
def test_odd_promo_codes_are_not_found_not_a_server_error(stack: LocalStack, code: str) -> None:
    answer, body = api(stack, f"/promo-codes/{code}/redeem", '{"order_id": "o-1"}')
    assert answer in (400, 404, 422), (answer, body)


def _with(path: tuple[str, ...], value: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def change(update: dict[str, Any]) -> dict[str, Any]:
        target = update
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return update
    return change


@pytest.mark.parametrize("change, reason", [
    (_with(("message", "date"), 2**63), "message.date: Input should be less than or equal to 4294967296"),
    (_with(("message", "chat"), "not a chat"), "message.chat: Input should be a valid dictionary"),
    (_with(("message", "from", "id"), "601"), "message.from.id: Input should be a valid integer"),
    (_with(("update_id",), 2**64), "update_id: Input should be less than or equal to 9007199254740992"),
    (_with(("message", "reply_to_message"), {"message_id": 1, "date": 1, "chat": {"id": 1, "type": "private"},
                                             "reply_to_message": {"message_id": 2}}),
     "message.reply_to_message.reply_to_message: Input should be None"),
])
def test_updates_that_broke_python_telegram_bot_are_refused_at_the_edge_naming_the_field(
        stack: LocalStack, change: Callable[[dict[str, Any]], dict[str, Any]], reason: str) -> None:
    update = change(telegram_update(1, 601, "/start"))
    assert post(stack, update) == 200
    ((_, attributes),) = drain(stack, "WebhookDeadLetterQueue")
    assert attributes["reason"].startswith(f"malformed update: {reason}")


def test_fields_the_bot_does_not_read_cannot_break_it(stack: LocalStack) -> None:
    update = telegram_update(1, 601, "/start")
    update["message"] |= {"entities": "x", "sticker": [], "forward_origin": 5}
    update |= {"edited_message": "x", "poll": {"id": []}, "message_reaction": None}
    assert post(stack, update) == 200
    assert drain(stack, "WebhookDeadLetterQueue") == []
    assert json.loads(json.dumps(update))  # (the update itself was fine JSON)
