"""A shopper talking to the bot through the Telegram emulator, over real HTTP (demo, tests, bench)."""

from __future__ import annotations

import base64
import json
import time
import urllib.request
from typing import Any


class Shopper:
    def __init__(self, telegram_url: str, user_id: int, first_name: str = "Анна", language_code: str = "ru",
                 username: str | None = None):
        self.telegram_url = telegram_url
        self.user = {"id": user_id, "first_name": first_name, "language_code": language_code,
                     **({"username": username} if username else {})}

    @property
    def chat_id(self) -> int:
        return int(str(self.user["id"]))

    def say(self, text: str) -> dict[str, Any]:
        return self._post("/emulator/send", {"user": self.user, "text": text})

    def share_phone(self, phone: str, owner_id: int | None = None) -> dict[str, Any]:
        contact = {"phone_number": phone, "user_id": self.chat_id if owner_id is None else owner_id}
        return self._post("/emulator/send", {"user": self.user, "contact": contact})

    def send_photo(self, data: bytes) -> dict[str, Any]:
        return self._post("/emulator/send", {"user": self.user, "photo": {"base64": base64.b64encode(data).decode()}})

    def send_file(self, data: bytes, file_name: str, mime_type: str = "application/json") -> dict[str, Any]:
        document = {"base64": base64.b64encode(data).decode(), "file_name": file_name, "mime_type": mime_type,
                    "extension": file_name.rsplit(".", 1)[-1]}
        return self._post("/emulator/send", {"user": self.user, "document": document})

    def tap(self, button: str) -> dict[str, Any]:
        """Tap the inline button whose text starts with `button`, under the bot's latest message that has one."""
        message_id, data = find_button(self.transcript(), button)
        return self._post("/emulator/send", {"user": self.user, "callback": {"message_id": message_id, "data": data}})

    def block_bot(self) -> dict[str, Any]:
        return self._post(f"/emulator/chats/{self.chat_id}/block", {})

    def unblock_bot(self) -> dict[str, Any]:
        return self._post(f"/emulator/chats/{self.chat_id}/unblock", {})

    def fail_next(self, status: int = 429, times: int = 1, **details: Any) -> dict[str, Any]:
        """The bot's next `times` calls to this chat fail with `status` (429: with `retry_after`)."""
        return self._post(f"/emulator/chats/{self.chat_id}/fail", {"status": status, "times": times, **details})

    def redeliver(self, update_id: int) -> dict[str, Any]:
        return self._post("/emulator/redeliver", {"update_id": update_id})

    def transcript(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"{self.telegram_url}/emulator/chats/{self.chat_id}", timeout=10) as r:
            transcript: list[dict[str, Any]] = json.load(r)
            return transcript

    def bot_messages(self) -> list[str]:
        return [entry["text"] for entry in self.transcript() if entry["from"] == "bot"]

    def wait_for_bot_messages(self, count: int, timeout: float = 30.0) -> list[str]:
        """The bot's messages once there are at least `count` of them."""
        deadline = time.monotonic() + timeout
        while True:
            messages = self.bot_messages()
            if len(messages) >= count:
                return messages
            if time.monotonic() > deadline:
                raise TimeoutError(f"expected {count} bot messages, got {len(messages)}: {messages}")
            time.sleep(0.05)

    def _post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(self.telegram_url + path, data=json.dumps(payload).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=60) as response:
            answer: dict[str, Any] = json.load(response)
            return answer


def find_button(transcript: list[dict[str, Any]], button: str, under: str = "") -> tuple[int, str]:
    """(message id, callback data) of the newest bot message's inline button whose text starts with `button` (under a
    message containing `under`, when given)."""
    for entry in reversed(transcript):
        mine = entry["from"] == "bot" and under in str(entry.get("text"))
        rows = ((entry.get("reply_markup") or {}).get("inline_keyboard") or []) if mine else []
        for row in rows:
            for found in row:
                if found["text"].startswith(button) and "callback_data" in found:
                    return entry["message_id"], found["callback_data"]
    raise LookupError(f"no button {button!r} in the chat")


class StaffChat:
    """The brand's staff group: a staff member replies to the bot's messages and taps their buttons."""

    def __init__(self, telegram_url: str, chat_id: int, user_id: int = 5_000_001, name: str = "Мария"):
        self.telegram_url = telegram_url
        self.chat = {"id": chat_id, "type": "supergroup", "title": "Лепесток: команда"}
        self.user = {"id": user_id, "first_name": name, "username": "maria_care", "language_code": "ru"}
        self._post(f"/emulator/chats/{chat_id}/open", {})  # the bot was added to the group

    def transcript(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"{self.telegram_url}/emulator/chats/{self.chat['id']}", timeout=10) as r:
            transcript: list[dict[str, Any]] = json.load(r)
            return transcript

    def bot_messages(self) -> list[str]:
        return [entry["text"] for entry in self.transcript() if entry["from"] == "bot"]

    def reply(self, to_containing: str, text: str) -> dict[str, Any]:
        """Reply (Telegram's Reply) to the newest bot message containing `to_containing`."""
        target = next(entry for entry in reversed(self.transcript())
                      if entry["from"] == "bot" and to_containing in entry["text"])
        return self._post("/emulator/send", {"user": self.user, "chat": self.chat, "text": text,
                                             "reply_to": target["message_id"]})

    def say(self, text: str) -> dict[str, Any]:
        return self._post("/emulator/send", {"user": self.user, "chat": self.chat, "text": text})

    def tap(self, button: str, under: str = "") -> dict[str, Any]:
        """Tap the button under the newest bot message that has it (and contains `under`)."""
        message_id, data = find_button(self.transcript(), button, under)
        return self._post("/emulator/send", {"user": self.user, "chat": self.chat,
                                             "callback": {"message_id": message_id, "data": data}})

    def _post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(self.telegram_url + path, data=json.dumps(payload).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=60) as response:
            answer: dict[str, Any] = json.load(response)
            return answer
