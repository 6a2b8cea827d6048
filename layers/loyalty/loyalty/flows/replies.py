"""Queue a message for a shopper. Every message goes through the outbox, so it is paced and retried."""

from __future__ import annotations

from typing import Any

from loyalty.adapters.queues import publish
from loyalty.contracts import OutboundMessage, Shopper
from loyalty.domain.messages import render


class Replies:
    def __init__(self, outbox_queue_url: str):
        self.outbox_queue_url = outbox_queue_url

    def send(self, shopper: Shopper, dedupe_key: str, text_key: str,
             reply_markup: dict[str, Any] | None = None, **params: Any) -> None:
        self.send_text(shopper, dedupe_key, render(text_key, shopper.language, **params), reply_markup)

    def send_text(self, shopper: Shopper, dedupe_key: str, text: str,
                  reply_markup: dict[str, Any] | None = None) -> None:
        publish(self.outbox_queue_url, OutboundMessage(
            dedupe_key=dedupe_key, chat_id=shopper.chat_id, text=text, reply_markup=reply_markup,
        ))
