"""The webhook's edge (flows/edge.py): a QR code's text answered and forwarded with nothing heavy loaded; anything else,
or anything it cannot read for certain, handed to the full bot."""

import json
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter
from telegram import Chat, Message, MessageEntity, Update, User

from loyalty.contracts import AccrualWork, QrSent
from loyalty.domain.errors import StorageUnavailable
from loyalty.domain.messages import render, use_brand_texts
from loyalty.flows.edge import Edge, qr_message
from tests.telegram_updates import contact_of, tapped, telegram_update

QR = "t=20240301T1230&s=1499.00&fn=7380440800000001&i=12345&fp=3522207165&n=1"
SECRET = "s3cret-token"


class FullBot:
    def __init__(self) -> None:
        self.received: list[str | None] = []

    def receive(self, secret_token: str | None, body: str | None) -> tuple[int, dict[str, Any]]:
        self.received.append(body)
        return 200, {"handed": True}


def edge(brand: dict[str, dict[str, str]] | None = None, fails: bool = False) -> tuple[Edge, list[Any], FullBot]:
    forwarded: list[Any] = []
    bot = FullBot()

    def forward(work: dict[str, Any]) -> None:
        if fails:
            raise StorageUnavailable("SQS is down")
        forwarded.append(json.loads(json.dumps(work)))  # as it travels

    return Edge(lambda: SECRET, forward, lambda: brand or {}, lambda: bot), forwarded, bot


def test_a_qr_codes_text_is_forwarded_as_the_accruals_work_and_acknowledged_in_the_shoppers_language() -> None:
    the_edge, forwarded, bot = edge()
    status, answer = the_edge.receive(SECRET, json.dumps(telegram_update(7, 501, f"мой чек {QR}", language="en")))
    assert (status, answer) == (200, {"method": "sendMessage", "chat_id": 501,
                                      "text": render("receipt_accepted", "en")})
    (work,) = forwarded
    sent = TypeAdapter(AccrualWork).validate_python(work)  # what the edge writes is what the accrual reads
    assert isinstance(sent, QrSent) and sent.message.update_id == 7 and sent.message.user_id == 501
    assert sent.message.text == f"мой чек {QR}" and sent.message.first_name == "Анна" and bot.received == []


def test_the_acknowledgement_is_the_brands_wording_as_render_gives_it() -> None:
    brand = {"receipt_accepted": {"ru": "Чек у нас! Проверяем."}}
    _, answer = edge(brand)[0].receive(SECRET, json.dumps(telegram_update(8, 502, QR)))
    use_brand_texts(brand)
    try:
        assert answer["text"] == render("receipt_accepted", "ru") == "Чек у нас! Проверяем."
        assert edge(brand)[0].receive(SECRET, json.dumps(telegram_update(9, 502, QR, language="en")))[1]["text"] \
            == render("receipt_accepted", "en")  # no English wording of the brand's: the catalog's
    finally:
        use_brand_texts({})


def test_a_qr_code_with_the_wrong_secret_is_refused_and_nothing_is_forwarded() -> None:
    the_edge, forwarded, bot = edge()
    assert the_edge.receive("wrong", json.dumps(telegram_update(10, 503, QR))) == (403, {})
    assert the_edge.receive(None, json.dumps(telegram_update(11, 503, QR))) == (403, {})
    assert forwarded == [] and bot.received == []


def test_aws_failing_answers_500_so_that_telegram_redelivers() -> None:
    assert edge(fails=True)[0].receive(SECRET, json.dumps(telegram_update(12, 504, QR))) == (500, {})


def _message_update(**fields: Any) -> dict[str, Any]:
    update = telegram_update(20, 505, QR)
    update["message"].update(fields)
    return update


def test_anything_but_a_qr_codes_text_from_a_person_in_a_private_chat_goes_to_the_full_bot() -> None:
    from_a_bot = Update(update_id=21, message=Message(message_id=1, date=datetime.now(UTC), text=QR,
                        chat=Chat(id=506, type="private"), from_user=User(id=506, first_name="Бот", is_bot=True))
                        ).to_dict()
    linked = telegram_update(22, 507, f"https://check.ofd.ru/?{QR}")
    linked["message"]["entities"] = [MessageEntity("url", 0, 20).to_dict()]
    others = [
        telegram_update(23, 508, "/start"), telegram_update(24, 508, "как получить баллы?"),
        telegram_update(25, 508, QR, chat_type="group"), telegram_update(26, 508, contact=contact_of(508)),
        tapped(27, 508, "lang:en"), from_a_bot,
        _message_update(reply_to_message={"message_id": 1, "date": 1, "chat": {"id": 505, "type": "private"}}),
        _message_update(chat={"id": "505", "type": "private"}),  # an id that is not a JSON number
        _message_update(message_id=True), _message_update(date=2**40), _message_update(text=["t=1"]),
        {"update_id": 28, "edited_message": telegram_update(28, 509, QR)["message"]},
        {**telegram_update(29, 509, QR), "callback_query": {"id": "1"}},
    ]
    the_edge, forwarded, bot = edge()
    for update in others:
        assert the_edge.receive(SECRET, json.dumps(update)) == (200, {"handed": True})
    for body in ("", "not json", "[" * 100_000 + "]" * 100_000, "x" * 1_000_001, json.dumps([QR])):
        assert the_edge.receive(SECRET, body) == (200, {"handed": True})
    assert forwarded == [] and len(bot.received) == len(others) + 5
    assert qr_message(json.dumps(linked)) is not None  # a link around the code, with Telegram's entities: still one


def test_the_edge_loads_neither_pydantic_nor_python_telegram_bot_nor_the_program() -> None:
    loaded = subprocess.run([sys.executable, "-c", "import sys, loyalty.wiring.edge, loyalty.flows.edge\n"
                             "print(' '.join(sorted(sys.modules)))"], capture_output=True, text=True, check=True)
    modules = set(loaded.stdout.split())
    assert not {name for name in modules if name.split(".")[0] in ("pydantic", "telegram", "yaml", "httpx")}
    assert not {name for name in modules if name.startswith(("loyalty.domain.program", "loyalty.contracts",
                                                             "loyalty.settings"))}
