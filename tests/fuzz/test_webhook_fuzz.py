"""The webhook, over HTTP, with generated Telegram updates: valid shapes with hostile values must be answered 200
and handled without a failure; a field the bot reads given the wrong type must be answered 200 and parked with a
reason that names it."""

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty_tools.local.stack import LocalStack
from tests.conftest import FUZZ_EXAMPLES as EXAMPLES
from tests.conftest import Tried
from tests.integration.conftest import drain
from tests.integration.test_bot_webhook import post

FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

ids = st.one_of(st.integers(-(2**53), 2**53), st.integers(1, 10**10), st.sampled_from([0, -1, 777000, 2**53]))
dates = st.one_of(st.integers(0, 2**32), st.sampled_from([0, 1_700_000_000, 2**32]))
hostile_text = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=4096),
    st.sampled_from(["/start", "/start ref_AAAAAAAA", "/start c_x-ref_-pack-", "/help", "/balance", "/level",
                     "/history", "/rewards", "/invite", "/promo", "/promo 100", "/promo -5", "/promo 1e9",
                     "/promo 99999999999999999999", "/stop", "/delete", "/language", "/language xx",
                     "/start@loyalty_local_bot ref_", "\u202e/help",
                     "t=20240301T1230&s=1499.00&fn=7380440800000001&i=12345&fp=1234567890&n=1",
                     "t=99999999T9999&s=-1&fn=&i=&fp=&n=9", "<b>bold</b> & <script>", "\x00\x01", "💰 Баланс"]),
)
user = st.fixed_dictionaries(
    {"id": ids, "is_bot": st.booleans(), "first_name": st.text(max_size=64)},
    optional={"language_code": st.one_of(st.none(), st.sampled_from(["ru", "en", "uk", ""]), st.text(max_size=35)),
              "username": st.one_of(st.none(), st.text(max_size=32))})
chat = st.fixed_dictionaries({"id": ids, "type": st.sampled_from(["private", "private", "private", "group",
                                                                  "supergroup", "channel", "unknown"])})
contact = st.fixed_dictionaries({"phone_number": st.one_of(st.text(max_size=64), st.from_regex(r"\+?[78]\d{10}",
                                                                                              fullmatch=True)),
                                 "first_name": st.text(max_size=64)},
                                optional={"user_id": ids})
photo = st.fixed_dictionaries({"file_id": st.text(min_size=1, max_size=80), "file_unique_id": st.text(max_size=20),
                               "width": ids, "height": ids}, optional={"file_size": ids})
document = st.fixed_dictionaries({"file_id": st.text(min_size=1, max_size=80), "file_unique_id": st.text(max_size=20)},
                                 optional={"file_name": st.text(max_size=80), "mime_type": st.text(max_size=40),
                                           "file_size": ids})
replied = st.fixed_dictionaries({"message_id": ids, "date": dates, "chat": chat}, optional={"text": hostile_text})
message = st.fixed_dictionaries(
    {"message_id": ids, "date": dates, "chat": chat},
    optional={"from": user, "text": hostile_text, "caption": st.text(max_size=1024), "contact": contact,
              "photo": st.lists(photo, max_size=4), "document": document, "reply_to_message": replied,
              "entities": st.just("ignored: the bot does not read entities")})
callback = st.fixed_dictionaries({"id": st.text(max_size=20), "from": user, "chat_instance": st.text(max_size=20)},
                                 optional={"data": st.text(max_size=64), "message": message})
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                       max_size=3), max_leaves=10)
update = st.fixed_dictionaries({"update_id": st.integers(1, 2**53)},
                               optional={"message": message, "callback_query": callback, "edited_message": json_values,
                                         "my_chat_member": json_values, "poll": json_values})


def with_own_contact(update: dict[str, Any]) -> dict[str, Any]:
    """Half the contacts are the sender's own, so the phone really gets saved."""
    found = update.get("message") or {}
    if "contact" in found and "from" in found and found["contact"].get("user_id", 0) % 2 == 0:
        found["contact"]["user_id"] = found["from"]["id"]
    return update


@FUZZ
@given(update.map(with_own_contact))
def test_any_valid_update_is_answered_200_and_handled_without_a_failure(stack: LocalStack, tried: Tried,
                                                                         update: dict[str, Any]) -> None:
    tried("webhook: valid shapes, hostile values")
    assert post(stack, update) == 200
    parked = drain(stack, "WebhookDeadLetterQueue")
    assert parked == [], [attributes["reason"] for _, attributes in parked]


# The fields the bot reads, and what each must be: anything else in their place is refused, naming the field.
CHECKED = {
    ("update_id",): int, ("message",): dict, ("message", "message_id"): int, ("message", "date"): int,
    ("message", "chat"): dict, ("message", "chat", "id"): int, ("message", "chat", "type"): str,
    ("message", "from"): dict, ("message", "from", "id"): int, ("message", "from", "is_bot"): bool,
    ("message", "from", "first_name"): str, ("message", "text"): str, ("message", "contact"): dict,
    ("message", "contact", "phone_number"): str, ("message", "contact", "user_id"): int, ("message", "photo"): list,
    ("message", "document"): dict, ("message", "reply_to_message"): dict, ("callback_query",): dict,
    ("callback_query", "id"): str, ("callback_query", "data"): str, ("callback_query", "from"): dict,
}
WRONG = {int: st.sampled_from(["1", 1.5, True, [], {}, 2**64]), str: st.sampled_from([5, 1.5, [], {}, True]),
         bool: st.sampled_from([1, "true", [], {}]), dict: st.sampled_from(["x", [], 3, True]),
         list: st.sampled_from(["x", {}, 3, True])}


def _from_someone(found: dict[str, Any]) -> bool:
    return ("message" in found and "from" in found["message"]) or "callback_query" in found


@st.composite
def broken_updates(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    """A valid update with one field the bot reads given a value of the wrong type: (update, that field's path)."""
    found: dict[str, Any] = draw(update.filter(_from_someone))
    paths = [path for path in CHECKED if _present(found, path)]
    path = draw(st.sampled_from(paths))
    parent = found
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = draw(WRONG[CHECKED[path]])
    return found, ".".join(path)


def _present(found: dict[str, Any], path: tuple[str, ...]) -> bool:
    for key in path:
        if not isinstance(found, dict) or key not in found:
            return False
        found = found[key]
    return True


@FUZZ
@given(broken_updates())
def test_a_read_field_of_the_wrong_type_is_answered_200_and_parked_naming_it(
        stack: LocalStack, tried: Tried, case: tuple[dict[str, Any], str]) -> None:
    tried("webhook: wrong field types")
    broken, path = case
    assert post(stack, broken) == 200
    ((body, attributes),) = drain(stack, "WebhookDeadLetterQueue")
    assert attributes["reason"].startswith("malformed update: ") and f"{path}:" in attributes["reason"], \
        (path, attributes["reason"])
    assert body == json.loads(json.dumps(broken))


@FUZZ
@given(st.one_of(json_values, st.binary(max_size=300).map(lambda raw: raw.decode("latin-1"))))
def test_any_body_at_all_is_answered_200_and_parked_or_handled(stack: LocalStack, tried: Tried, body: Any) -> None:
    tried("webhook: any body")
    status = post(stack, body.encode() if isinstance(body, str) else json.dumps(body).encode())
    assert status == 200
    drain(stack, "WebhookDeadLetterQueue")
