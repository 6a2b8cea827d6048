"""bot_webhook through the emulated HTTP API: real HTTP, real Telegram updates, moto behind."""

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any, Literal

from botocore.client import BaseClient
from botocore.exceptions import ClientError
from pytest import MonkeyPatch
from telegram import CallbackQuery, Chat, Message, Update, User

from loyalty.adapters.dynamo import from_item, to_item
from loyalty.adapters.ledger import LedgerRepository
from loyalty_tools.local.stack import LocalStack
from tests.conftest import present
from tests.integration.conftest import bodies, drain, post_update, replies, send, submissions
from tests.telegram_updates import contact_of, telegram_update

QR = "t=20240301T1230&s=1499.00&fn=7380440800000001&i=12345&fp=1234567890&n=1"


def post(stack: LocalStack, body: Any, secret: Literal[False] | str | None = None,
         headers: dict[str, str] | None = None) -> int:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return post_update(stack, data, {
        "Content-Type": "application/json", **({} if secret is False else {
            "X-Telegram-Bot-Api-Secret-Token": stack.webhook_secret if secret is None else secret}),
        **(headers or {}),
    })[0]


def member(stack: LocalStack, user_id: int) -> dict[str, Any] | None:
    item = stack.aws("dynamodb").get_item(TableName="MembersTable", Key=to_item({"member_id": str(user_id)}))
    return from_item(item["Item"]) if "Item" in item else None


def test_start_creates_the_member_and_asks_for_the_phone_with_the_contact_button(stack: LocalStack) -> None:
    assert post(stack, telegram_update(1, 501, "/start", language="en")) == 200
    assert present(member(stack, 501))["language"] == "en" and present(member(stack, 501)).get("available", 0) == 0
    (reply,) = replies(stack)
    assert reply["chat_id"] == 501 and reply["text"].startswith("Hello!")
    assert reply["reply_markup"]["keyboard"][0][0]["request_contact"] is True


def test_own_contact_saves_the_phone_and_a_foreign_one_does_not(stack: LocalStack) -> None:
    post(stack, telegram_update(1, 502, "/start"))
    post(stack, telegram_update(2, 502, contact=contact_of(999)))
    assert "phone" not in present(member(stack, 502))
    post(stack, telegram_update(3, 502, contact=contact_of(502)))
    assert present(member(stack, 502))["phone"] == "+79161234567"
    texts = [reply["text"] for reply in replies(stack)]
    assert texts[1].startswith("Это не ваш номер") and texts[2].startswith("Спасибо, вы в программе")


def test_a_receipt_qr_is_acknowledged_at_the_edge_and_forwarded_as_the_shopper_sent_it(stack: LocalStack) -> None:
    post(stack, telegram_update(1, 503, "/start"))
    post(stack, telegram_update(2, 503, contact=contact_of(503)))
    replies(stack)
    assert post(stack, telegram_update(3, 503, f"вот мой чек\n{QR}", language="en")) == 200
    (sent,) = bodies(stack, "AccrualQueue")
    assert sent == {"kind": "qr", "message": {"update_id": 3, "user_id": 503, "chat_id": 503, "first_name": "Анна",
                                             "text": f"вот мой чек\n{QR}", "language_code": "en"}}
    (reply,) = replies(stack)
    assert reply["text"].startswith("Receipt received")  # in Telegram's language: the edge reads no member


def test_a_receipt_before_the_phone_is_kept_and_sent_once_the_phone_arrives(stack: LocalStack) -> None:
    post(stack, telegram_update(1, 504, QR))
    assert stack.poller("AccrualQueue").poll_once() == 1  # the accrual counts it, and keeps it for the phone
    assert [reply["text"][:11] for reply in replies(stack)] == ["Чек принят,", "Сначала под"]
    assert "pending_receipt" in present(member(stack, 504))
    post(stack, telegram_update(2, 504, contact=contact_of(504)))
    (submitted,) = submissions(stack)
    assert submitted["qr"] == QR and submitted["kind"] == "submitted"
    assert "pending_receipt" not in present(member(stack, 504))


def test_text_that_is_not_a_receipt_gets_a_hint(stack: LocalStack) -> None:
    post(stack, telegram_update(1, 505, "как получить баллы?"))
    (reply,) = replies(stack)
    assert "QR-кода чека" in reply["text"] and submissions(stack) == []


def test_group_chats_are_ignored(stack: LocalStack) -> None:
    assert post(stack, telegram_update(1, 506, QR, chat_type="group")) == 200
    assert replies(stack) == [] and member(stack, 506) is None


def test_a_request_without_the_right_secret_is_refused_and_does_nothing(stack: LocalStack) -> None:
    assert post(stack, telegram_update(1, 507, "/start"), secret="wrong") == 403
    assert post(stack, telegram_update(2, 507, "/start"), secret=False) == 403
    assert member(stack, 507) is None and replies(stack) == []


def test_a_redelivered_update_is_handled_once(stack: LocalStack) -> None:
    post(stack, telegram_update(1, 508, "/start"))
    post(stack, telegram_update(2, 508, contact=contact_of(508)))
    replies(stack)
    assert [post(stack, telegram_update(3, 508, "/balance")) for _ in range(3)] == [200, 200, 200]
    assert len(replies(stack)) == 1  # the idempotency record answers the repeats


def test_a_redelivered_receipt_is_passed_on_as_the_same_submission_the_claim_takes_once(stack: LocalStack) -> None:
    """A receipt needs no idempotency record: the check's claim replays a submission it has seen (its tests:
    test_receipt_check.py), and the submission was counted in the limits once."""
    post(stack, telegram_update(1, 508, "/start"))
    post(stack, telegram_update(2, 508, contact=contact_of(508)))
    update = telegram_update(3, 508, QR)
    assert [post(stack, update) for _ in range(3)] == [200, 200, 200]
    assert stack.poller("AccrualQueue").poll_once() == 3  # the three deliveries forwarded: each counted and checked
    member = stack.aws("dynamodb").get_item(TableName="MembersTable", Key={"member_id": {"S": "508"}})["Item"]
    days = [name for name in member if name.startswith("sent_on_")]
    assert len(days) == 1 and member[days[0]]["SS"] == member["sent_in_minute"]["SS"] == ["tg-update:3"]


def test_a_malformed_update_is_answered_200_and_parked_with_its_reason(stack: LocalStack) -> None:
    assert post(stack, b"{not json") == 200
    assert post(stack, {"message": {"text": "no update_id"}}) == 200
    parked = drain(stack, "WebhookDeadLetterQueue")
    assert [body for body, _ in parked] == ["{not json", {"message": {"text": "no update_id"}}]
    assert all(attributes["reason"].startswith("malformed update") for _, attributes in parked)


def test_an_update_with_a_field_of_the_wrong_type_is_refused_at_the_edge_naming_it(stack: LocalStack) -> None:
    broken = telegram_update(1, 509, "/start")
    broken["message"]["chat"] = "not a chat"  # python-telegram-bot would fail deep inside on this
    broken["message"]["from"]["id"] = "509"  # a number as text is not a number
    assert post(stack, broken) == 200
    ((body, attributes),) = drain(stack, "WebhookDeadLetterQueue")
    assert body["update_id"] == 1 and attributes["update_id"] == "1"
    assert attributes["reason"] == ("malformed update: message.chat: Input should be a valid dictionary or instance "
                                    "of _Chat; message.from.id: Input should be a valid integer")
    assert member(stack, 509) is None


def test_what_the_bot_does_not_read_is_not_checked_nor_passed_on(stack: LocalStack) -> None:
    update = telegram_update(1, 514, "/start")
    update["message"]["entities"] = "whatever"  # python-telegram-bot would choke on it; the bot never reads it
    update["edited_message"] = ["not", "an", "edit"]
    assert post(stack, update) == 200
    assert drain(stack, "WebhookDeadLetterQueue") == [] and member(stack, 514) is not None


def test_when_aws_fails_the_webhook_answers_500_so_telegram_keeps_the_update(stack: LocalStack) -> None:
    stack.aws("dynamodb").delete_table(TableName="MembersTable")
    assert post(stack, telegram_update(1, 510, "/start")) == 500
    assert drain(stack, "WebhookDeadLetterQueue") == []  # not parked: Telegram will deliver it again


def test_photos_and_receipt_files_are_queued_as_files_and_other_files_get_a_hint(stack: LocalStack) -> None:
    from telegram import Document, PhotoSize

    post(stack, telegram_update(1, 511, "/start"))
    post(stack, telegram_update(2, 511, contact=contact_of(511)))
    replies(stack)
    sizes = [PhotoSize("small", "s1", 90, 160), PhotoSize("large", "s2", 1080, 1920)]
    sent = {
        3: telegram_update(3, 511, photo=sizes),
        4: telegram_update(4, 511, document=Document("img", "u4", file_name="IMG_1.JPG", mime_type="image/jpeg")),
        5: telegram_update(5, 511, document=Document("fns", "u5", file_name="checks.json",
                                                     mime_type="application/json")),
        6: telegram_update(6, 511, document=Document("pdf", "u6", file_name="scan.pdf", mime_type="application/pdf")),
    }
    for update in sent.values():
        assert post(stack, update) == 200
    files = [body["file"] for body in submissions(stack)]
    assert files == [{"file_id": "large", "kind": "photo", "file_name": None},
                     {"file_id": "img", "kind": "photo", "file_name": "IMG_1.JPG"},
                     {"file_id": "fns", "kind": "document", "file_name": "checks.json"}]
    assert replies(stack)[-1]["text"].startswith("Пока я понимаю только")


def test_the_chosen_time_zone_is_kept_on_the_member_and_read_with_their_wallet(stack: LocalStack) -> None:
    post(stack, telegram_update(320, 562, "/start"))
    post(stack, telegram_update(321, 562, contact=contact_of(562, "+7 916 000-05-62")))
    assert post(stack, telegram_update(322, 562, "/timezone")) == 200
    offer = replies(stack)[-1]
    assert {"text": offer["reply_markup"]["inline_keyboard"][1][1]["text"].split(" · ")[0],
            "data": offer["reply_markup"]["inline_keyboard"][1][1]["callback_data"]} == {
        "text": "Екатеринбург", "data": "tz:Asia/Yekaterinburg"}
    shown = Message(message_id=10, date=datetime.now(UTC), chat=Chat(id=562, type="private"),
                    from_user=User(id=7000000001, first_name="Loyalty", is_bot=True), text=offer["text"])
    tap = CallbackQuery(id="cb-3", from_user=User(id=562, first_name="Анна", is_bot=False), chat_instance="1",
                        message=shown, data="tz:Asia/Yekaterinburg")
    status, _ = answer_of(stack, Update(update_id=323, callback_query=tap).to_dict())
    assert status == 200 and present(member(stack, 562))["time_zone"] == "Asia/Yekaterinburg"
    assert replies(stack)[-1]["text"].startswith("Готово: Екатеринбург, у вас сейчас ")
    holder = LedgerRepository("LedgerTable", "MembersTable").read("562")[2]
    assert holder.time_zone == "Asia/Yekaterinburg"  # what the postman keeps the letters' daytime by


def test_points_commands_answer_in_plain_russian_and_promo_goes_to_the_ledger_queue(stack: LocalStack) -> None:
    assert post(stack, telegram_update(70, 531, "/start")) == 200
    assert post(stack, telegram_update(71, 531, contact=contact_of(531))) == 200
    saved = replies(stack)[-1]["text"]
    assert "/balance — баллы" in saved and "/level — уровень" in saved and "/invite — пригласить друга" in saved
    assert bodies(stack, "AccrualQueue") == []  # the test program pays no welcome bonus (the seed's does)
    for update_id, text in ((72, "/balance"), (73, "/history"), (74, "/promo сто"), (75, "/help"),
                            (76, "/promo@brand_bot 300")):
        assert post(stack, telegram_update(update_id, 531, text)) == 200
    texts = [reply["text"] for reply in replies(stack)]
    assert texts[0] == "Уровень «Тест-Бренд»: баллами возвращается 10%.\nДоступно: 0 баллов."
    assert texts[1].startswith("Операций по баллам пока нет.")
    assert texts[2].startswith("Напишите /promo и число баллов")
    assert texts[3].startswith("Пока я понимаю только чеки и команды") and "/history" in texts[3]
    (promo,) = bodies(stack, "AccrualQueue")
    assert (promo["kind"], promo["points"], promo["request_id"]) == ("promo", 300, "tg-update:76")


def invitation_code(stack: LocalStack, update_id: int, user_id: int) -> str:
    """The code in the member's /invite link (they join first)."""
    assert post(stack, telegram_update(update_id, user_id, "/start")) == 200
    assert post(stack, telegram_update(update_id + 1, user_id, contact=contact_of(user_id))) == 200
    assert post(stack, telegram_update(update_id + 2, user_id, "/invite")) == 200
    link = next(body["text"] for body in replies(stack) if "?start=ref_" in body["text"]
                and body["chat_id"] == user_id)
    code: str = link.split("?start=ref_")[1].split()[0]
    assert str(user_id) not in code and len(code) == 8  # opaque: the Telegram id is not in the link
    return code


def test_an_invitation_is_kept_only_for_a_shopper_new_to_the_bot(stack: LocalStack) -> None:
    code = invitation_code(stack, 77, 540)
    assert post(stack, telegram_update(80, 541, f"/start ref_{code}")) == 200
    assert present(member(stack, 541))["referred_by"] == "540"
    assert post(stack, telegram_update(81, 542, "/start")) == 200
    assert post(stack, telegram_update(82, 542, f"/start ref_{code}")) == 200  # already a member: not invited
    assert post(stack, telegram_update(83, 540, f"/start ref_{code}")) == 200  # nobody invites themselves
    assert post(stack, telegram_update(84, 543, "/start ref_540")) == 200  # a Telegram id is no invitation
    assert all("referred_by" not in present(member(stack, n)) for n in (540, 542, 543))


def test_how_a_member_joined_is_kept_for_campaigns_and_starting_again_resubscribes(stack: LocalStack) -> None:
    assert post(stack, telegram_update(90, 551, "/start c_spring_sale")) == 200
    code = invitation_code(stack, 86, 550)
    assert post(stack, telegram_update(91, 552, f"/start ref_{code}")) == 200
    assert post(stack, telegram_update(92, 553, "/start")) == 200
    assert [present(member(stack, n)).get("joined_via", "organic") for n in (551, 552, 553)] == [
        "campaign:spring_sale", "referral", "organic"]
    assert post(stack, telegram_update(93, 551, "/start c_other")) == 200  # where they came from stays the first
    assert present(member(stack, 551))["joined_via"] == "campaign:spring_sale"
    stack.aws("dynamodb").update_item(TableName="MembersTable", Key=to_item({"member_id": "553"}),
                                      UpdateExpression="SET subscribed = :no",
                                      ExpressionAttributeValues=to_item({":no": False}))  # they had blocked the bot
    assert post(stack, telegram_update(94, 553, "/start")) == 200
    assert present(member(stack, 553))["subscribed"] is True


def answer_of(stack: LocalStack, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode()
    request = urllib.request.Request(stack.webhook_url, data=data, method="POST", headers={
        "Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": stack.webhook_secret})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read() or b"{}")


def test_a_tapped_button_is_read_by_its_data_and_acknowledged_in_the_webhooks_answer(stack: LocalStack) -> None:
    assert post(stack, telegram_update(300, 561, "/start")) == 200
    bot = User(id=7000000001, first_name="Loyalty", is_bot=True)
    shown = Message(message_id=9, date=datetime.now(UTC), chat=Chat(id=561, type="private"), from_user=bot,
                    text="/stop")  # the bot's own message says /stop: tapping under it must not stop anything
    tap = CallbackQuery(id="cb-1", from_user=User(id=561, first_name="Анна", is_bot=False), chat_instance="1",
                        message=shown, data="lang:en")
    status, answer = answer_of(stack, Update(update_id=301, callback_query=tap).to_dict())
    assert status == 200 and answer == {"method": "answerCallbackQuery", "callback_query_id": "cb-1"}
    assert present(member(stack, 561))["language_choice"] == "en" and present(member(stack, 561))["subscribed"] is True
    assert replies(stack)[-1]["text"] == "Done, I will write in English from now on."
    forged = CallbackQuery(id="cb-2", from_user=User(id=561, first_name="Анна", is_bot=False), chat_instance="1",
                           message=shown, data="review:AAAAAAAAAA:ok")  # a staff button, outside the staff chat
    status, answer = answer_of(stack, Update(update_id=302, callback_query=forged).to_dict())
    assert status == 200 and answer["callback_query_id"] == "cb-2"
    assert bodies(stack, "AccrualQueue") == []
    assert replies(stack)[-1]["text"].startswith("This button no longer works")


def test_an_edited_message_is_not_taken_for_a_new_one(stack: LocalStack) -> None:
    update = telegram_update(310, 562, "t=20240301T1230&s=1499.00&fn=7380440800000001&i=99&fp=1234567890&n=1")
    edited = Update.de_json(update, None)
    status, answer = answer_of(stack, {"update_id": 311, "edited_message": present(edited.message).to_dict()})
    assert (status, answer) == (200, {})
    assert member(stack, 562) is None and submissions(stack) == []


def test_a_huge_or_deeply_nested_body_is_parked_cut_and_answered_200(stack: LocalStack) -> None:
    huge = ("x" * 5_000_000).encode()  # 5 MB, not JSON, with the right secret
    assert post(stack, huge) == 200
    deep = ("[" * 100_000 + "]" * 100_000).encode()  # JSON nested 100,000 deep
    assert post(stack, deep) == 200
    parked = drain(stack, "WebhookDeadLetterQueue")
    assert len(parked) == 2
    (big_body, big), (_, nested) = sorted(parked, key=lambda item: -len(item[0]))
    assert big["reason"].startswith("update too large") and int(big["truncated_from_bytes"]) == 5_000_000
    assert 0 < len(big_body.encode()) <= 240_000
    assert nested["reason"].startswith("malformed update: RecursionError")


def test_a_secret_header_sent_twice_is_refused_as_api_gateway_joins_them(stack: LocalStack) -> None:
    import http.client
    from urllib.parse import urlsplit

    where = urlsplit(stack.webhook_url)
    connection = http.client.HTTPConnection(present(where.hostname), where.port, timeout=10)
    body = json.dumps(telegram_update(320, 571, "/start"))
    connection.putrequest("POST", where.path)
    for value in (stack.webhook_secret, "attacker-guess"):  # the right secret, and another beside it
        connection.putheader("X-Telegram-Bot-Api-Secret-Token", value)
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(len(body)))
    connection.endheaders(body.encode())
    assert connection.getresponse().status == 403  # "secret,attacker-guess" is not the secret
    assert member(stack, 571) is None


def test_an_update_whose_first_handling_died_with_its_mark_left_is_refused_until_it_can_be_handled(
        stack: LocalStack, monkeypatch: MonkeyPatch) -> None:
    """The handler failed and so did clearing its in-progress mark (DynamoDB throttled both): a 200 to the redelivery
    would make Telegram drop the update for good, so the webhook answers 503 and Telegram tries again later."""
    original = BaseClient._make_api_call

    def throttled(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if (operation in ("GetItem", "UpdateItem", "PutItem") and params.get("TableName") == "MembersTable") \
                or (operation == "DeleteItem" and params.get("TableName") == "IdempotencyTable"):
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}},
                              operation)
        return original(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", throttled)
    update = telegram_update(1, 512, "/start")
    assert post(stack, update) == 500  # AWS failed: Telegram keeps the update
    assert post(stack, update) == 503  # its mark is still there: not handled, and not dropped either
    monkeypatch.undo()
    assert member(stack, 512) is None and drain(stack, "WebhookDeadLetterQueue") == []



def test_a_qr_code_forwarded_leaves_the_username_out_and_its_marker_as_it_was(stack: LocalStack) -> None:
    def with_username(update: dict[str, Any]) -> dict[str, Any]:
        update["message"]["from"]["username"] = "anna_k"
        return update

    post(stack, telegram_update(1, 509, "/start"))
    post(stack, telegram_update(2, 509, contact=contact_of(509)))
    post(stack, with_username(telegram_update(4, 509, "/balance")))
    marker = present(member(stack, 509)).get("username_marker")
    assert marker  # the full bot keeps the username as a keyed marker only
    post(stack, with_username(telegram_update(3, 509, QR)))
    (sent,) = bodies(stack, "AccrualQueue")
    assert "anna_k" not in json.dumps(sent)
    send(stack, "AccrualQueue", sent)
    assert stack.poller("AccrualQueue").poll_once() == 1
    assert present(member(stack, 509)).get("username_marker") == marker
