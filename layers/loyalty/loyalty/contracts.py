"""The messages the functions pass to each other through SQS. One model per queue."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator


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


class PurchaseLine(_Message):
    """One of the brand's lines on a receipt: what goods rules (multipliers, fixed points) look at."""

    name: str
    sum_kopecks: int
    quantity: str = "1"
    gtin: str | None = None
    category: str | None = None


class ReceiptAccepted(_Message):
    """AccrualQueue: a verified, claimed receipt with the brand's goods in it."""

    kind: Literal["receipt"] = "receipt"
    submission_id: str
    shopper: Shopper
    fiscal_key: str
    channel: str
    channel_kind: str = Field(default="other", description="marketplace | retail | d2c | other")
    store: str
    brand_sum_kopecks: int
    lines: tuple[PurchaseLine, ...] = ()
    reverses: str | None = Field(default=None, description="a refund: the fiscal key of the purchase")
    purchase_kopecks: int | None = Field(default=None, description="a refund: the purchase's brand goods")
    issued_at: datetime | None = Field(default=None, description="when the receipt was issued (the purchase time "
                                       "campaigns count from); None: when it was accepted")


class BonusGranted(_Message):
    """AccrualQueue: a bonus the program pays once per `reference` (welcome: the member; review: its id)."""

    kind: Literal["bonus"] = "bonus"
    shopper: Shopper
    bonus: Literal["welcome", "review"]
    reference: str


class PromoRequested(_Message):
    """AccrualQueue: the shopper asked the bot for a one-time promo code worth `points`."""

    kind: Literal["promo"] = "promo"
    request_id: str = Field(description="stable across redeliveries: the Telegram update")
    shopper: Shopper
    points: int | None = Field(default=None, description="None: all available points")


def _kind(value: Any) -> str:
    return value.get("kind", "receipt") if isinstance(value, dict) else getattr(value, "kind", "receipt")


# What AccrualQueue carries; a message without `kind` is a receipt (messages from before there were others).
LedgerCommand = Annotated[
    Annotated[ReceiptAccepted, Tag("receipt")] | Annotated[BonusGranted, Tag("bonus")]
    | Annotated[PromoRequested, Tag("promo")],
    Discriminator(_kind),
]


class CampaignMessage(_Message):
    """CampaignQueue: one campaign touch to deliver. `touch` names it in the campaigns table (and dedupes it)."""

    campaign: str
    touch: str
    member_id: str
    chat_id: int
    text: str
    image: str | None = None
    reply_markup: dict[str, Any] | None = None
    goal_days: int
    goal_channel: str | None = None


class OutboundMessage(_Message):
    """OutboxQueue: one Telegram message to send. `dedupe_key` makes redelivery send it once."""

    dedupe_key: str
    chat_id: int
    text: str
    reply_markup: dict[str, Any] | None = None
