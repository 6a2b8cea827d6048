"""Queue a message for a shopper. Every message goes through the outbox, so it is paced and retried."""

from __future__ import annotations

from typing import Any

from loyalty.contracts import OutboundMessage, Shopper
from loyalty.domain.messages import render
from loyalty.flows.ports import Outbox


class Replies:
    def __init__(self, outbox: Outbox):
        self.outbox = outbox

    def send(self, shopper: Shopper, dedupe_key: str, text_key: str,
             reply_markup: dict[str, Any] | None = None, html: bool = False, **params: Any) -> None:
        self.send_text(shopper, dedupe_key, render(text_key, shopper.language, html=html, **params), reply_markup,
                       html=html)

    def send_text(self, shopper: Shopper, dedupe_key: str, text: str,
                  reply_markup: dict[str, Any] | None = None, html: bool = False) -> None:
        self.to_chat(shopper.chat_id, dedupe_key, text, reply_markup, html=html)

    def to_chat(self, chat_id: int, dedupe_key: str, text: str, reply_markup: dict[str, Any] | None = None,
                html: bool = False, photo: str | None = None) -> None:
        """A message to any chat the bot is in: a shopper's, or the brand's staff chat."""
        self.outbox.put(OutboundMessage(dedupe_key=dedupe_key, chat_id=chat_id, text=text,
                                        reply_markup=reply_markup, html=html, photo=photo))
