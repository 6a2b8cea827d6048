"""Queue a message for a shopper: through the outbox, so it is paced and retried; or, an acknowledgement of an update,
in the webhook's own answer."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from loyalty.contracts import OutboundMessage, Shopper
from loyalty.domain.messages import render

if TYPE_CHECKING:
    from loyalty.flows.ports import Outbox


class Answer:
    """What the webhook answers an update with: an acknowledgement, when the update got one."""

    message: OutboundMessage | None = None

    def text(self) -> str | None:
        """The acknowledgement's text (kept with the update's outcome; the chat is the update's own)."""
        return self.message.text if self.message is not None else None


class Replies:
    def __init__(self, outbox: Outbox):
        self.outbox = outbox
        self._answer: Answer | None = None  # while the webhook handles an update: its answer's slot
        self._chat: int | None = None  # … and the chat the update came from

    @contextlib.contextmanager
    def answering(self, chat_id: int | None) -> Iterator[Answer]:
        """While the webhook handles one update from `chat_id` (None: its answer is taken, by a tapped button's
        acknowledgement): an acknowledgement to that chat may go in the webhook's answer (`acknowledge`)."""
        answer = Answer()
        self._answer = answer if chat_id is not None else None
        self._chat = chat_id
        try:
            yield answer
        finally:
            self._answer = None

    def acknowledge(self, shopper: Shopper, dedupe_key: str, text_key: str, **params: Any) -> None:
        """A message that only says "received": in the webhook's answer when there is one. It costs no queue, no
        sender and no request to AWS, and Telegram takes it only with our 200, so a redelivered update is answered
        once. Telegram does not tell us if it refuses it (a chat flooded past its limit): only a message whose loss
        costs nothing goes this way, never one that is the outcome (that follows, through the outbox)."""
        if self._answer is not None and self._answer.message is None and shopper.chat_id == self._chat:
            self._answer.message = OutboundMessage(dedupe_key=dedupe_key, chat_id=shopper.chat_id,
                                                   text=render(text_key, shopper.language, **params))
            return
        self.send(shopper, dedupe_key, text_key, **params)

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
        if self._answer is not None and chat_id == self._chat:
            self._answer = None  # an acknowledgement after this must not overtake it: it goes through the outbox too
        self.outbox.put(OutboundMessage(dedupe_key=dedupe_key, chat_id=chat_id, text=text,
                                        reply_markup=reply_markup, html=html, photo=photo))
