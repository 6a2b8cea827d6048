"""Sending to the Telegram Bot API over plain HTTPS, for the functions that only send (flows/ports.py: MessageSink).

python-telegram-bot reads updates and builds keyboards for the bot's logic (adapters/telegram.py); a sender needs
neither, and its import (with httpx and an event loop) was most of a sender's cold start. Two Bot API methods are
all a sender calls, each one JSON POST on urllib3's pool (which boto3 has already loaded). Telegram's answers become
the same domain errors python-telegram-bot's did: 429 a rate limit with its retry_after, 403 a blocked chat, 400 a
rejected message, anything else (or no answer) Telegram being unavailable.

The token is part of the URL, as the Bot API wants it: no URL is ever logged here, and urllib3 logs its requests
only at DEBUG.
"""

from __future__ import annotations

import json
from typing import Any

import urllib3

from loyalty.adapters.secrets import secret
from loyalty.domain.errors import ChatBlocked, MessageRejected, RateLimited, TelegramUnavailable

_TIMEOUT = urllib3.Timeout(connect=5, read=20)


class BotApi:
    def __init__(self, api_url: str, token_secret_name: str):
        self.api_url = api_url.rstrip("/")
        self.token_secret_name = token_secret_name
        self.http = urllib3.PoolManager(retries=False, timeout=_TIMEOUT)

    def send_message(self, chat_id: int, text: str, reply_markup: dict[str, Any] | None = None,
                     parse_mode: str | None = None) -> int:
        return self._message_id(self.call("sendMessage", chat_id=chat_id, text=text, reply_markup=reply_markup,
                                          parse_mode=parse_mode))

    def send_photo(self, chat_id: int, photo_url: str, caption: str, reply_markup: dict[str, Any] | None = None) -> int:
        """A picture by its URL (Telegram fetches it) or by the file_id of one a shopper sent, the text its caption."""
        return self._message_id(self.call("sendPhoto", chat_id=chat_id, photo=photo_url, caption=caption,
                                          reply_markup=reply_markup))

    def remove_from_chat(self, chat_id: int, user_id: int) -> None:
        """banChatMember removes them; unbanChatMember (only_if_banned) lets them ask to join again later. One who
        left already is no refusal: Telegram bans and unbans a non-member all the same."""
        self.call("banChatMember", chat_id=chat_id, user_id=user_id)
        self.call("unbanChatMember", chat_id=chat_id, user_id=user_id, only_if_banned=True)

    def call(self, method: str, **params: Any) -> Any:
        """One Bot API method; its `result`, or the domain's error for Telegram's refusal."""
        url = f"{self.api_url}/bot{secret(self.token_secret_name)}/{method}"
        body = json.dumps({name: value for name, value in params.items() if value is not None}).encode()
        try:
            response = self.http.request("POST", url, body=body, headers={"Content-Type": "application/json"})
        except urllib3.exceptions.HTTPError as error:  # no answer: the message may go on a retry
            raise TelegramUnavailable(f"{method}: {type(error).__name__}") from None
        try:
            answer = json.loads(response.data or b"{}")
        except ValueError:
            answer = {}
        if response.status == 200 and answer.get("ok"):
            return answer.get("result")
        raise _refusal(response.status, answer)

    @staticmethod
    def _message_id(result: Any) -> int:
        return int(result["message_id"]) if isinstance(result, dict) and "message_id" in result else 0


def _refusal(status: int, answer: dict[str, Any]) -> Exception:
    description = str(answer.get("description") or f"HTTP {status}")
    if status == 429:
        retry_after = int((answer.get("parameters") or {}).get("retry_after") or 1)
        return RateLimited("telegram rate limit", retry_after)
    if status == 403:
        return ChatBlocked(description)
    if status == 400:
        return MessageRejected(description)
    return TelegramUnavailable(description)
