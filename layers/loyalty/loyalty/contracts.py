"""The messages the functions pass to each other through SQS. One model per queue."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Shopper(_Message):
    member_id: str
    chat_id: int
    language: str


class ReceiptSubmitted(_Message):
    """ReceiptQueue: a shopper sent something that should be a receipt."""

    submission_id: str = Field(description="stable across redeliveries, e.g. tg-update:<update_id>")
    shopper: Shopper
    qr: str


class ReceiptAccepted(_Message):
    """AccrualQueue: a verified, claimed receipt with the brand's goods in it."""

    submission_id: str
    shopper: Shopper
    fiscal_key: str
    channel: str
    store: str
    brand_sum_kopecks: int


class OutboundMessage(_Message):
    """OutboxQueue: one Telegram message to send. `dedupe_key` makes redelivery send it once."""

    dedupe_key: str
    chat_id: int
    text: str
    reply_markup: dict[str, Any] | None = None
