"""The Bot API emulator as python-telegram-bot sees it: files a shopper sent can be fetched and downloaded."""

import asyncio
import base64
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from telegram import Bot
from telegram.error import BadRequest, InvalidToken

from loyalty_tools.local.telegram_emulator import TelegramEmulator

TOKEN = "7000000001:test-token"
PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


@pytest.fixture(scope="module")
def emulator() -> Iterator[TelegramEmulator]:
    server = TelegramEmulator(TOKEN)
    server.start()
    yield server
    server.stop()


def bot(emulator: TelegramEmulator, token: str = TOKEN) -> Bot:
    return Bot(token, base_url=f"{emulator.url}/bot", base_file_url=f"{emulator.url}/file/bot")


def test_a_photo_the_shopper_sent_can_be_fetched_with_get_file_and_downloaded(emulator: TelegramEmulator) -> None:
    from loyalty_tools.local.shopper import Shopper

    shopper = Shopper(emulator.url, user_id=42)
    photo = {"base64": base64.b64encode(PHOTO).decode()}
    sent = shopper._post("/emulator/send", {"user": shopper.user, "photo": photo})
    file_id = sent["update"]["message"]["photo"][-1]["file_id"]

    async def fetch() -> tuple[int | None, bytes]:
        async with bot(emulator) as telegram:
            file = await telegram.get_file(file_id)
            return file.file_size, bytes(await file.download_as_bytearray())

    size, data = asyncio.run(fetch())
    assert size == len(PHOTO) and data == PHOTO
    with urllib.request.urlopen(f"{emulator.url}/emulator/calls", timeout=5) as response:
        calls = json.load(response)
    assert [call["method"] for call in calls[-2:]] == ["getMe", "getFile"]
    assert calls[-1]["params"]["file_id"] == file_id


def test_bot_api_errors_have_telegrams_shape(emulator: TelegramEmulator) -> None:
    async def calls() -> None:
        async with bot(emulator) as telegram:
            with pytest.raises(BadRequest, match="Chat not found"):
                await telegram.send_message(chat_id=123456, text="hi")
            with pytest.raises(BadRequest, match="Invalid file_id"):
                await telegram.get_file("nope")

    asyncio.run(calls())


def test_a_wrong_token_is_refused(emulator: TelegramEmulator) -> None:
    async def call() -> None:
        async with bot(emulator, token="1:wrong"):
            pass

    with pytest.raises(InvalidToken):
        asyncio.run(call())


def bot_api(emulator: TelegramEmulator, method: str, **params: Any) -> Any:
    """One raw Bot API call: (HTTP status, body)."""
    request = urllib.request.Request(f"{emulator.url}/bot{TOKEN}/{method}", data=json.dumps(params).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_what_real_telegram_refuses_the_emulator_refuses_with_its_words(emulator: TelegramEmulator) -> None:
    """The Bot API's documented limits: 4,096 characters of text and 1,024 of caption (counted in UTF-16 code units,
    so an emoji is two), 64 bytes of callback data, and a button's link must be http(s) or tg."""
    from loyalty_tools.local.shopper import Shopper

    chats = iter(range(4_100, 4_110))  # a chat for each message that goes through: one chat takes a burst of 5
    for user_id in range(4_100, 4_110):
        Shopper(emulator.url, user_id=user_id).say("привет")

    def send(method: str = "sendMessage", **params: Any) -> tuple[int, str]:
        status, body = bot_api(emulator, method, chat_id=next(chats), **params)
        return status, body.get("description", "sent")

    assert send(text="я" * 4096) == (200, "sent")
    assert send(text="я" * 4097) == (400, "Bad Request: message is too long")
    assert send(text="😀" * 2048) == (200, "sent") and send(text="😀" * 2049)[0] == 400
    photo = "https://example.com/box.png"
    assert send("sendPhoto", photo=photo, caption="я" * 1024) == (200, "sent")
    assert send("sendPhoto", photo=photo, caption="я" * 1025) == (400, "Bad Request: message caption is too long")

    def button(**target: str) -> dict[str, Any]:
        return {"inline_keyboard": [[{"text": "ok", **target}]]}

    assert send(text="b", reply_markup=button(callback_data="x" * 64)) == (200, "sent")
    assert send(text="b", reply_markup=button(callback_data="ж" * 33)) == (400, "Bad Request: BUTTON_DATA_INVALID")
    assert send(text="b", reply_markup=button(url="tg://resolve?domain=lepestok_bot")) == (200, "sent")
    status, said = send(text="b", reply_markup=button(url="javascript:alert(1)"))
    assert status == 400 and "unsupported URL protocol" in said


def test_a_sender_faster_than_30_a_second_or_1_a_second_to_one_chat_gets_429_with_retry_after() -> None:
    server = TelegramEmulator(TOKEN)  # its own: the limits count every message it ever took
    server.start()
    try:
        chats = range(100, 250)
        for chat in chats:
            server.state.transcripts.setdefault(chat, [])
        started = time.monotonic()
        answers = [bot_api(server, "sendMessage", chat_id=chat, text="news") for chat in chats]
        elapsed = time.monotonic() - started
        refused = [body for status, body in answers if status == 429]
        sent = len(answers) - len(refused)
        assert elapsed < 4 and refused  # 150 calls well above 30 a second: some are refused ...
        assert sent <= 30 + 30 * elapsed + 1  # ... and no more go than a full bucket and its refill
        assert all(body["parameters"]["retry_after"] >= 1 for body in refused)
        server.reset()
        server.state.transcripts.setdefault(7, [])
        statuses = [bot_api(server, "sendMessage", chat_id=7, text=f"{n}")[0] for n in range(6)]
        assert statuses == [200] * 5 + [429]  # one chat: a burst of five, then one a second
    finally:
        server.stop()
