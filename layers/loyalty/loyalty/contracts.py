"""The messages the functions pass to each other through SQS. One model per queue."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Shopper(_Message):
    member_id: str
    chat_id: int
    language: str


class TelegramFile(_Message):
    file_id: str
    kind: Literal["photo", "document"]
    file_name: str | None = None


class ReceiptSubmitted(_Message):
    """ReceiptQueue: a shopper sent something that should be a receipt: QR text, a photo or a file."""

    submission_id: str = Field(description="stable across redeliveries, e.g. tg-update:<update_id>")
    shopper: Shopper
    qr: str | None = None
    file: TelegramFile | None = None
    uploaded: dict[str, Any] | None = Field(
        default=None, description="with qr: the receipt as the shopper's file gave it (trusted only offline)"
    )

    @model_validator(mode="after")
    def _one_source(self) -> ReceiptSubmitted:
        if (self.qr is None) == (self.file is None):
            raise ValueError("exactly one of qr and file")
        return self


class ReceiptAccepted(_Message):
    """AccrualQueue: a verified, claimed receipt with the brand's goods in it."""

    submission_id: str
    shopper: Shopper
    fiscal_key: str
    channel: str
    store: str
    brand_sum_kopecks: int
    reverses: str | None = Field(default=None, description="a refund: the fiscal key of the purchase")
    purchase_kopecks: int | None = Field(default=None, description="a refund: the purchase's brand goods")


class OutboundMessage(_Message):
    """OutboxQueue: one Telegram message to send. `dedupe_key` makes redelivery send it once."""

    dedupe_key: str
    chat_id: int
    text: str
    reply_markup: dict[str, Any] | None = None
