"""Queue a message for a shopper. Every message goes through the outbox, so it is paced and retried."""

from __future__ import annotations

from typing import Any

from loyalty.contracts import OutboundMessage, Shopper
from loyalty.domain.messages import render
from loyalty.flows.ports import Queue


class Replies:
    def __init__(self, outbox: Queue):
        self.outbox = outbox

    def send(self, shopper: Shopper, dedupe_key: str, text_key: str,
             reply_markup: dict[str, Any] | None = None, **params: Any) -> None:
        self.send_text(shopper, dedupe_key, render(text_key, shopper.language, **params), reply_markup)

    def send_text(self, shopper: Shopper, dedupe_key: str, text: str,
                  reply_markup: dict[str, Any] | None = None) -> None:
        self.outbox.put(OutboundMessage(
            dedupe_key=dedupe_key, chat_id=shopper.chat_id, text=text, reply_markup=reply_markup,
        ))
