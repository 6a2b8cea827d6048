"""Real Telegram without AWS: updates taken by long polling (`getUpdates`) and handed to the local webhook exactly as
Telegram would POST them (with the secret header), so a developer with a bot token talks to the local stack from a
phone. A method in the webhook's answer (a tapped button's `answerCallbackQuery`) is run against the Bot API, as
Telegram runs it for a webhook.

Telegram refuses getUpdates (409) while the bot has a webhook: use a test bot, not the brand's deployed one.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from typing import Any

_LONG_POLL_SECONDS = 25


class PollingConflict(RuntimeError):
    """The bot has a webhook set, so Telegram will not hand its updates to getUpdates."""


class TelegramPoller:
    def __init__(self, api_url: str, token: str, webhook_url: str, webhook_secret: str,
                 long_poll_seconds: int = _LONG_POLL_SECONDS):
        self.api = f"{api_url.rstrip('/')}/bot{token}"
        self.webhook_url, self.webhook_secret = webhook_url, webhook_secret
        self.long_poll_seconds = long_poll_seconds
        self.offset = 0
        self.handed = 0  # updates given to the webhook
        self.error: Exception | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="telegram-poller", daemon=True)

    def start(self) -> TelegramPoller:
        self.call("getMe")  # a wrong token fails here, with Telegram's own message
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def poll_once(self) -> int:
        """Take what Telegram has (waiting up to the long poll) and hand each update over in order; confirmed by
        the next call's offset only after the webhook took it, so nothing is lost if we stop half-way."""
        updates = self.call("getUpdates", offset=self.offset, timeout=self.long_poll_seconds,
                            allowed_updates=["message", "callback_query"])
        for update in updates:
            self._hand_over(update)
            self.offset = int(update["update_id"]) + 1
            self.handed += 1
        return len(updates)

    def call(self, method: str, **params: Any) -> Any:
        request = urllib.request.Request(f"{self.api}/{method}", data=json.dumps(params).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.long_poll_seconds + 10) as response:
                return json.load(response)["result"]
        except urllib.error.HTTPError as error:
            if error.code == 409:
                raise PollingConflict("this bot has a webhook set (a deployed stack uses it): use another bot for "
                                      "local polling, or deleteWebhook") from error
            raise

    def _hand_over(self, update: dict[str, Any]) -> None:
        request = urllib.request.Request(self.webhook_url, data=json.dumps(update).encode(), method="POST", headers={
            "Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": self.webhook_secret})
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.loads(response.read() or b"{}")
        if isinstance(answer, dict) and answer.get("method"):
            method = answer.pop("method")
            self.call(str(method), **answer)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except PollingConflict as error:
                self.error = error
                return
            except Exception as error:  # Telegram or the network hiccupped: wait, then poll again
                self.error = error
                time.sleep(2)
