"""The messages the functions pass to each other through SQS (one model per queue), and the Telegram message the
bot's flow reads (Incoming)."""


from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from loyalty.domain import chat_limits
from loyalty.domain.details import BoughtLine


class _Message(BaseModel):
    # Built at first use: a function reads only its own queue's messages, and a cold start pays for no other's.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Shopper(_Message):
    member_id: str
    chat_id: int
    language: str
    suspect: tuple[str, ...] = Field(default=(), description="fraud rules the member trips as a person (a phone "
                                     "behind many accounts): their receipts are held")
    invited_by: str | None = Field(default=None, description="the member who invited them: the referral rule "
                                   "counts that inviter's friends")
    seen: dict[str, Any] | None = Field(default=None, description="a receipt's: the member item as the webhook "
                                        "read it (Member.seen), which the ledger writes from first")


class TelegramFile(_Message):
    file_id: str
    kind: Literal["photo", "document"]
    file_name: str | None = None


class QrSent(_Message):
    """AccrualQueue: a receipt's QR code a shopper sent the bot as text, as the webhook's edge read it (flows/edge.py)
    and acknowledged. The point accrual counts it in the shopper's limits, reads the member with that same write,
    then checks and credits it (flows/submissions.py: SentQr)."""

    kind: Literal["qr"] = "qr"
    message: "Incoming"


class ReceiptSubmitted(_Message):
    """AccrualQueue: a shopper sent something that should be a receipt: QR text, a photo or a file."""

    kind: Literal["submitted"] = "submitted"
    submission_id: str = Field(description="stable across redeliveries, e.g. tg-update:<update_id>")
    shopper: Shopper
    qr: str | None = None
    file: TelegramFile | None = None
    uploaded: dict[str, Any] | None = Field(
        default=None, description="with qr: the receipt as the shopper's file gave it (trusted only offline)"
    )

    @model_validator(mode="after")
    def _one_source(self) -> "ReceiptSubmitted":
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
    held_by: tuple[str, ...] = Field(default=(), description="the fraud rules it tripped: its points stay pending "
                                     "until the staff decide")


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


class BirthdayGiven(_Message):
    """AccrualQueue: the member gave their birthday (the bot's /birthday, the Mini App's profile); `request_id` is the
    update's or the page's, so a redelivery sets nothing twice."""

    kind: Literal["birthday"] = "birthday"
    request_id: str = Field(min_length=1, max_length=100)
    shopper: Shopper
    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=31)


class MembersMerged(_Message):
    """AccrualQueue: the shopper proved the phone of a member imported without a Telegram id (`source`): that
    member's points and level move to the shopper, once."""

    kind: Literal["merge"] = "merge"
    shopper: Shopper
    source: str


class RewardRequested(_Message):
    """AccrualQueue: the shopper confirmed exchanging points for a reward from the catalog; `order_id` is the
    confirmation's, so a second tap orders nothing more."""

    kind: Literal["reward"] = "reward"
    shopper: Shopper
    reward_id: str
    order_id: str = Field(min_length=1, max_length=40)


class MemberErased(_Message):
    """AccrualQueue: the member deleted their account; what is left of their points is written off, once."""

    kind: Literal["erase"] = "erase"
    member_id: str


class ReceiptHeldLater(_Message):
    """AccrualQueue: a purchase credited before a fraud rule tripped on its till or seller the same day: what is
    left of its points waits for the staff, as a held receipt's."""

    kind: Literal["held_later"] = "held_later"
    member_id: str
    fiscal_key: str
    held_by: tuple[str, ...]


class HeldReceiptDecided(_Message):
    """AccrualQueue: the staff approved (the points are released) or rejected (taken back) a held receipt."""

    kind: Literal["held"] = "held"
    member_id: str
    fiscal_key: str
    approved: bool


class PointsAdjusted(_Message):
    """AccrualQueue: a support member's correction from the console, once per `reference`, with their reason."""

    kind: Literal["adjust"] = "adjust"
    member_id: str
    points: int = Field(description="credited (> 0) or taken (< 0); never 0")
    reason: str = Field(min_length=3, max_length=200)
    reference: str = Field(min_length=1, max_length=64, description="the console's request key: a retry is the same")
    by: int = Field(description="the staff member's Telegram id")


class CampaignBonusWithdrawn(_Message):
    """AccrualQueue: a campaign's message could not reach its member (they blocked the bot), so the bonus it paid is
    taken back, once: what is left of its points, or its boost."""

    kind: Literal["withdraw"] = "withdraw"
    member_id: str
    touch: str = Field(description="the touch whose bonus it was, as recorded (CampaignMessage.touch)")


def _kind(value: Any) -> str:
    return value.get("kind", "receipt") if isinstance(value, dict) else getattr(value, "kind", "receipt")


class CreditReversed(_Message):
    """AccrualQueue: support took back what a purchase credited (the receipt was not the member's to register),
    once per purchase, with their reason; the purchase then counts as returned."""

    kind: Literal["reverse"] = "reverse"
    member_id: str
    fiscal_key: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=3, max_length=200)
    by: int = Field(description="the staff member's Telegram id")


# What AccrualQueue carries: a receipt a shopper submitted, to check and then credit in the same invocation, or a
# ledger command. A message without `kind` is an accepted receipt (messages from before there were others).
AccrualWork = Annotated[
    Annotated[ReceiptSubmitted, Tag("submitted")] | Annotated[QrSent, Tag("qr")]
    | Annotated[ReceiptAccepted, Tag("receipt")]
    | Annotated[BonusGranted, Tag("bonus")] | Annotated[PromoRequested, Tag("promo")]
    | Annotated[MembersMerged, Tag("merge")] | Annotated[RewardRequested, Tag("reward")]
    | Annotated[MemberErased, Tag("erase")] | Annotated[CampaignBonusWithdrawn, Tag("withdraw")]
    | Annotated[HeldReceiptDecided, Tag("held")] | Annotated[ReceiptHeldLater, Tag("held_later")]
    | Annotated[PointsAdjusted, Tag("adjust")] | Annotated[CreditReversed, Tag("reverse")]
    | Annotated[BirthdayGiven, Tag("birthday")],
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
    goal_days: int = Field(ge=0, description="a purchase within this many days converts it; 0: never attributed "
                           "(an onboarding message, a survey: they do not take a purchase from the offer before)")
    goal_channel: str | None = None
    queued_at: datetime | None = Field(default=None, description="when the member was reached (a letter is due "
                                       "then)")

    @model_validator(mode="before")
    @classmethod
    def _fits_telegram(cls, data: Any) -> Any:
        return _fitted(data)  # a text too long for a caption goes without its picture (campaign_sender.py)


class OutboundMessage(_Message):
    """OutboxQueue: one Telegram message to send. `dedupe_key` makes redelivery send it once."""

    dedupe_key: str
    chat_id: int
    text: str
    reply_markup: dict[str, Any] | None = None
    html: bool = Field(default=False, description="the text is Telegram HTML (its values escaped)")
    photo: str | None = Field(default=None, description="a file_id a shopper sent (a review's screenshot): "
                              "sent as a photo with the text as its caption")
    removes_from: int | None = Field(default=None, description="the community chat the member (this chat's user) is "
                                     "shown out of as the text tells them why; an empty text says nothing")

    @model_validator(mode="before")
    @classmethod
    def _fits_telegram(cls, data: Any) -> Any:
        return _fitted(data, "photo")


def joined(messages: list[OutboundMessage]) -> list[OutboundMessage]:
    """The messages one step put, as their chats get them: a chat's consecutive texts go as one message, a paragraph
    each, so a receipt's "+45 баллов" and the level it reached are one notification, one send to Telegram and one
    write of the sender's, not two. A message with buttons ends its run (buttons stay under their own text); a photo
    goes on its own, as does a text in other markup (HTML beside plain) or one that would pass Telegram's limit.
    A step done again puts the same messages, so it joins them the same, under the same key."""
    out: list[OutboundMessage] = []
    for message in messages:
        last = out[-1] if out else None
        if last is None or not _joinable(last, message):
            out.append(message)
            continue
        out[-1] = last.model_copy(update={"dedupe_key": f"{last.dedupe_key}+{message.dedupe_key}",
                                          "text": f"{last.text}\n\n{message.text}",
                                          "reply_markup": message.reply_markup})
    return out


def _joinable(first: OutboundMessage, then: OutboundMessage) -> bool:
    return (first.chat_id == then.chat_id and first.reply_markup is None and not first.photo and not then.photo
            and first.html == then.html
            and chat_limits.length(first.text) + 2 + chat_limits.length(then.text) <= chat_limits.TEXT)


def _fitted(data: Any, picture: str | None = None) -> Any:
    """A message's text cut to what Telegram takes (a caption under a picture is shorter): a text built from what a
    shopper wrote must reach its chat, not a dead-letter queue."""
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        return data
    limit = chat_limits.CAPTION if picture and data.get(picture) else chat_limits.TEXT
    text, is_html = chat_limits.fit(data["text"], limit, bool(data.get("html")))
    return {**data, "text": text, **({"html": is_html} if "html" in data else {})}


# ---------------------------------------------------------------- CrmQueue (FIFO, grouped by member)
class CrmBalance(_Message):
    available: int = 0
    pending: int = 0
    held: int = 0


class _CrmEvent(_Message):
    event_id: str = Field(description="stable across redeliveries: derived from the entry or update that caused it; "
                          "the CRM's idempotency key (Mindbox transactionId)")
    member_id: str
    occurred_at: datetime


class MemberRegistered(_CrmEvent):
    type: Literal["member_registered"] = "member_registered"
    phone: str = Field(description="E.164, +7…")
    telegram_id: int | None
    name: str | None = None
    language: str = "ru"
    source: str = Field(description="organic, referral, campaign:<name>, import")
    consent: bool = Field(description="accepted the program rules by sharing the phone")
    referred_by: str | None = None


class MemberUpdated(_CrmEvent):
    type: Literal["member_updated"] = "member_updated"
    phone: str | None = None
    telegram_id: int | None = None
    subscribed: bool | None = None


class ReceiptRecorded(_CrmEvent):
    type: Literal["receipt_accepted"] = "receipt_accepted"
    fiscal_key: str
    channel: str
    store: str
    purchased_at: datetime
    brand_sum_kopecks: int
    lines: tuple[BoughtLine, ...] = ()
    points: int = Field(description="credited for it (pending or available)")
    pending: bool = False


class PointsChanged(_CrmEvent):
    type: Literal["points_changed"] = "points_changed"
    entry_id: str
    kind: str
    points: int = Field(description="the change to available plus pending")
    change: CrmBalance
    balance_after: CrmBalance
    expires_at: datetime | None = None
    label: str = ""


class LevelChanged(_CrmEvent):
    type: Literal["level_changed"] = "level_changed"
    level_before: str | None
    level: str | None


class Unsubscribed(_CrmEvent):
    type: Literal["unsubscribed"] = "unsubscribed"


class Deleted(_CrmEvent):
    type: Literal["deleted"] = "deleted"


CrmEvent = Annotated[MemberRegistered | MemberUpdated | ReceiptRecorded | PointsChanged | LevelChanged
                     | Unsubscribed | Deleted, Field(discriminator="type")]


class CrmBatch(_Message):
    """CrmQueue: the CRM events of one change, in order (a receipt's: the receipt, its points, a new level). One
    message per change, grouped by member, so one member's events reach the CRM in the order they happened."""

    member_id: str
    key: str = Field(description="the change's key: the queue's deduplication id")
    events: tuple[CrmEvent, ...] = Field(min_length=1)


class Incoming(BaseModel):
    """A message a person sent the bot in a private chat (or in the brand's staff chat), or a button they tapped,
    as the bot's flow reads it."""

    model_config = ConfigDict(defer_build=True)

    update_id: int
    user_id: int
    chat_id: int
    staff: bool = False  # in the brand's staff chat
    user_name: str = ""  # staff only: who decided
    first_name: str | None = None  # a shopper's first name as Telegram shows it: a campaign may greet them by it
    username: str | None = None  # a shopper's @username: kept only as a keyed marker, for support to find them
    language_code: str | None = None
    text: str | None = None
    contact_phone: str | None = None  # a shared contact: its phone …
    contact_user_id: int | None = None  # … and whose it is (None: somebody's address-book entry)
    file: TelegramFile | None = None  # a receipt photo or file
    callback_id: str | None = None  # a tapped inline button: the query to answer …
    callback_data: str | None = None  # … and what the button says (never the text of the message it is under)
    reply_to_text: str | None = None  # the bot's message this one replies to (staff answers a ticket)
