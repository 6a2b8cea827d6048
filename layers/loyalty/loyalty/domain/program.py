"""The loyalty program a brand runs: its INNs, catalog, channels, earning rules, levels, bonuses and redemption.

Pure types, validated on construction: a bad program names the path of its bad key, never fails half-way
through a receipt. Reading the program file is an adapter's job (adapters/program_file.py).
"""


from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from loyalty.domain.birthday import BirthdayGift
from loyalty.domain.bot_program import BotProgram, Words, placeholders, words
from loyalty.domain.campaigns import Campaign
from loyalty.domain.challenges import Challenge
from loyalty.domain.community import Community
from loyalty.domain.contact import Contact
from loyalty.domain.draw import Draw
from loyalty.domain.fraud import Fraud
from loyalty.domain.places import Place, StoreForms, declines
from loyalty.domain.profile import PLACEHOLDER, Profile
from loyalty.domain.receipt import gtin14
from loyalty.domain.segments import Segment
from loyalty.domain.spans import MAX_DAYS

_CHANNEL_KINDS = {"marketplace", "retail", "d2c", "other"}


class _Strict(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)


def _inns(values: list[str]) -> list[str]:
    cleaned = [str(value).strip() for value in values]
    for inn in cleaned:
        if not inn.isdigit() or len(inn) not in (10, 12):
            raise ValueError(f"{inn!r} is not a 10- or 12-digit INN")
    return cleaned


def _needs_forms(title: str, forms: StoreForms | None) -> None:
    """A Russian name changes with its case, and no rule guesses how: the program writes its forms."""
    if forms is None and declines(title):
        raise ValueError(f"forms: «{title}» declines in Russian; give the forms the texts need, e.g. "
                         "forms: {at: в Золотом Яблоке, from: из Золотого Яблока}")


def _derived(names: set[str]) -> set[str]:
    """What a text may say beside its catalog's placeholders: a count's plural word, a store's other forms."""
    stores = {name.rsplit("_", 1)[0] for name in names if name.endswith(("_at", "_from"))}
    return names | {f"{name}_word" for name in names} | {f"{store}{form}" for store in stores
                                                          for form in ("", "_at", "_from")}


def _gtin14(value: str | None) -> str | None:
    if value is None:
        return None
    gtin = gtin14(value)
    if gtin is None:
        raise ValueError("gtin must be up to 14 digits")
    return gtin


class CatalogEntry(_Strict):
    gtin: str | None = None
    name: str
    category: str | None = None

    @field_validator("gtin")
    @classmethod
    def _gtin(cls, value: str | None) -> str | None:
        return _gtin14(value)


class Brand(_Strict):
    name: str
    bot_username: str | None = Field(default=None, description="the bot's @username, for invitation links")
    inns: list[str] = Field(default_factory=list, description="INNs the brand sells under itself (d2c)")
    supplier_inns: list[str] = Field(
        default_factory=list, description="INNs that appear as providerInn on marketplace receipts"
    )
    catalog: list[CatalogEntry] = Field(default_factory=list)
    name_patterns: list[str] = Field(
        default_factory=list, description="words that mark the brand's goods by name in other stores"
    )
    forms: StoreForms | None = Field(default=None, description="the brand's own store in a sentence: «на сайте …»")
    card_image: str | None = Field(default=None, pattern=r"^https://", description="the brand's card (a picture): an "
                                   "invitation shared from the Mini App shows it")

    @field_validator("inns", "supplier_inns")
    @classmethod
    def _check_inns(cls, values: list[str]) -> list[str]:
        return _inns(values)

    @model_validator(mode="after")
    def _declined(self) -> "Brand":
        if self.inns:  # the brand's own receipts name it as the store
            _needs_forms(self.name, self.forms)
        return self


class Channel(_Strict):
    """A place of purchase, recognised by the seller's INN (and, where one legal entity runs several
    stores, by a hint found in the receipt's `retailPlace`)."""

    name: str
    title: Words = Field(description="how the store is named to shoppers")
    kind: str = Field(pattern="^(marketplace|retail)$")
    inns: list[str] = Field(min_length=1)
    retail_places: list[str] = Field(default_factory=list)
    forms: StoreForms | None = Field(default=None, description="the title in a sentence: «в Золотом Яблоке»")

    @field_validator("inns")
    @classmethod
    def _check_inns(cls, values: list[str]) -> list[str]:
        return _inns(values)

    @model_validator(mode="after")
    def _declined(self) -> "Channel":
        _needs_forms(words(self.title, "ru"), self.forms)
        return self


class GoodsRule(_Strict):
    """How one category or one GTIN earns and how much of it points may pay. A GTIN rule beats a category's."""

    category: str | None = None
    gtin: str | None = None
    accrual_multiplier: Decimal | None = Field(default=None, ge=0, description="times the level's rate")
    accrual_points: int | None = Field(default=None, ge=0, description="fixed points per unit instead")
    pay_share_percent: Decimal | None = Field(default=None, ge=0, le=100, description="max share paid in points")
    pay_points: int | None = Field(default=None, ge=0, description="max points per unit instead")

    @field_validator("gtin")
    @classmethod
    def _gtin(cls, value: str | None) -> str | None:
        return _gtin14(value)

    @model_validator(mode="after")
    def _one_target(self) -> "GoodsRule":
        if (self.category is None) == (self.gtin is None):
            raise ValueError("a goods rule names exactly one of category and gtin")
        if self.accrual_multiplier is not None and self.accrual_points is not None:
            raise ValueError("accrual_multiplier and accrual_points exclude each other")
        if self.pay_share_percent is not None and self.pay_points is not None:
            raise ValueError("pay_share_percent and pay_points exclude each other")
        return self


class Expiry(_Strict):
    """Points expire `after_days` after they become available, then (with `end_of`) at the end of that
    month or year, Moscow time. Without `after_days` and `end_of` points never expire."""

    after_days: int | None = Field(default=None, ge=1, le=MAX_DAYS)
    end_of: Literal["month", "year"] | None = None
    reminder_days: int = Field(default=7, ge=0, le=MAX_DAYS, description="days before expiry the shopper is reminded")


class Caps(_Strict):
    per_day: int | None = Field(default=None, ge=1, description="points a member may earn from receipts a day")
    per_month: int | None = Field(default=None, ge=1, description="... and a calendar month (Moscow time)")


class Earning(_Strict):
    base_percent: Decimal = Field(ge=0, le=100, description="the rate without levels")
    pending_days: dict[str, int] = Field(
        default_factory=dict,
        description="days before points become available, by channel name or kind (marketplace, retail, d2c, "
        "other) or `default`: a marketplace's return window",
    )
    expiry: Expiry = Field(default_factory=Expiry)
    caps: Caps = Field(default_factory=Caps)
    goods: list[GoodsRule] = Field(default_factory=list)

    @field_validator("pending_days")
    @classmethod
    def _days(cls, values: dict[str, int]) -> dict[str, int]:
        for name, days in values.items():
            if not 0 <= days <= MAX_DAYS:
                raise ValueError(f"{name}: pending days must be between 0 and {MAX_DAYS}")
        return values


class Condition(_Strict):
    """All of these, counted over the last `within_days` (or ever)."""

    receipts: int = Field(default=0, ge=0)
    spend_roubles: int = Field(default=0, ge=0, description="the brand's goods bought, in roubles")
    reviews: int = Field(default=0, ge=0)
    within_days: int | None = Field(default=None, ge=1, le=MAX_DAYS)


class Level(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: Words
    percent: Decimal = Field(ge=0, le=100, description="accrual rate on this level")
    perks: list[Words] = Field(default_factory=list)
    entry: list[Condition] = Field(default_factory=list, description="any one of these opens the level; "
                                   "none: everyone starts here")
    downgrade_every_days: int | None = Field(
        default=None, ge=1, le=MAX_DAYS,
        description="re-check every N days against the last N days; none: never downgrade"
    )


class Bonuses(_Strict):
    welcome: int = Field(default=0, ge=0, description="when the shopper joins (shares the phone)")
    referrer: int = Field(default=0, ge=0, description="to the inviter, on the invited member's first receipt")
    referred: int = Field(default=0, ge=0, description="to the invited member, on their first receipt")
    review: int = Field(default=0, ge=0, description="for each published review the brand confirms")


class Redemption(_Strict):
    max_share_percent: Decimal = Field(default=Decimal(100), ge=0, le=100, description="of any line, by default")
    hold_minutes: int = Field(default=30, ge=1, description="an uncommitted hold is released after this")
    promo_code_days: int = Field(default=30, ge=1, le=MAX_DAYS,
                                 description="a bot-issued promo code is valid this long")
    promo_min_points: int = Field(default=100, ge=1)


class Receipts(_Strict):
    max_age_days: int = Field(default=30, ge=1, le=MAX_DAYS)
    max_per_day: int | None = Field(default=None, ge=1, description="receipts a member may register a day")
    order_pair_days: int = Field(default=90, ge=1, le=MAX_DAYS, description="how far apart an order's prepayment and "
                                 "settlement receipts may be")
    accept_unverified_files: bool = Field(default=False, description="offline use only: trust uploaded "
                                          "receipt files the receipt service cannot confirm")


class MindboxOperations(_Strict):
    """The operation each event is sent as: every Mindbox project names its own (its manager sets them up)."""

    member_registered: str = "Loyalty.RegisterCustomer"
    member_updated: str = "Loyalty.EditCustomer"
    receipt_accepted: str = "Loyalty.SaveOfflineOrder"
    points_changed: str = "Loyalty.ChangeBalance"
    level_changed: str = "Loyalty.EditCustomer"
    unsubscribed: str = "Loyalty.UnsubscribeCustomer"
    deleted: str = "Loyalty.DeleteCustomer"


class Mindbox(_Strict):
    endpoint_id: str = Field(min_length=1, description="the project's endpoint id (its secret is the CRM secret)")
    operations: MindboxOperations = Field(default_factory=MindboxOperations)
    telegram_id: str = Field(default="tgID", description="the external id the Telegram user id is kept under")
    balance_type: str = Field(default="Points", description="the points balance's system name")
    level_field: str = Field(default="loyaltyLevel", description="customer field that holds the level")
    source_field: str = Field(default="loyaltySource", description="customer field for how the member came")
    point_of_contact: str = Field(default="Telegram", description="the subscription channel consent is for")
    requests_per_minute: int = Field(default=6000, ge=1, le=8000, description="Mindbox allows 8,000 an operation")
    timeout_seconds: float = Field(default=10, gt=0, le=60)


class CrmWebhook(_Strict):
    requests_per_minute: int = Field(default=600, ge=1)
    timeout_seconds: float = Field(default=10, gt=0, le=60)


class Crm(_Strict):
    """Where members, receipts and balance changes are synced (the URL and secret are deploy parameters)."""

    kind: Literal["none", "mindbox", "webhook"] = "none"
    mindbox: Mindbox | None = None
    webhook: CrmWebhook = Field(default_factory=CrmWebhook)

    @model_validator(mode="after")
    def _configured(self) -> "Crm":
        if self.kind == "mindbox" and self.mindbox is None:
            raise ValueError("kind mindbox needs a mindbox section (endpoint_id at least)")
        return self

    @property
    def requests_per_minute(self) -> int:
        if self.kind == "mindbox" and self.mindbox is not None:
            return self.mindbox.requests_per_minute
        return self.webhook.requests_per_minute


class Program(_Strict):
    brand: Brand
    earning: Earning
    receipts: Receipts = Field(default_factory=Receipts)
    channels: list[Channel] = Field(default_factory=list)
    levels: list[Level] = Field(default_factory=list, description="lowest first")
    bonuses: Bonuses = Field(default_factory=Bonuses)
    redemption: Redemption = Field(default_factory=Redemption)
    segments: dict[str, Segment] = Field(default_factory=dict, description="named groups of members")
    campaigns: list[Campaign] = Field(default_factory=list)
    crm: Crm = Field(default_factory=Crm)
    bot: BotProgram = Field(default_factory=BotProgram)
    fraud: Fraud = Field(default_factory=Fraud)
    contact: Contact = Field(default_factory=Contact, description="when a message that is not a direct answer may "
                             "reach a member: quiet hours, spacing, marketing caps (domain/contact.py)")
    challenges: list[Challenge] = Field(default_factory=list, description="what a member can set out to do for a "
                                        "reward: receipts in a window, channels, a streak (domain/challenges.py)")
    draw: Draw | None = Field(default=None, description="the prize draw: spins, prizes, budget (domain/draw.py)")
    birthday: BirthdayGift | None = Field(default=None, description="points a few days before the member's "
                                          "birthday (domain/birthday.py)")
    profile: Profile = Field(default_factory=Profile, description="what the Mini App's profile asks: interests "
                             "(domain/profile.py)")
    community: Community | None = Field(default=None, description="the private group a level opens "
                                        "(domain/community.py)")

    @model_validator(mode="after")
    def _bot(self) -> "Program":
        """What the bot's section names exists: channels, levels, catalog texts and their placeholders."""
        bot, places = self.bot, {channel.name for channel in self.channels} | _CHANNEL_KINDS
        named = [(f"sources.{key}.channel", source.channel) for key, source in bot.sources.items()]
        named += [(f"onboarding.{key}", key) for key in bot.onboarding]
        named += [(f"nudges.{nudge.name}.after_purchase_in", where) for nudge in bot.nudges
                  for where in nudge.after_purchase_in]
        named += [(f"nudges.{nudge.name}.goal_channel", nudge.goal_channel) for nudge in bot.nudges]
        named += [(f"survey.review_links.{key}", key) for key in (bot.survey.review_links if bot.survey else {})]
        for path, channel in named:
            if channel is not None and channel not in places:
                raise ValueError(f"bot.{path}: no channel or channel kind {channel!r}")
        for reward in bot.rewards:
            if reward.min_level is not None and self.level(reward.min_level) is None:
                raise ValueError(f"bot.rewards.{reward.id}.min_level: no level {reward.min_level!r}")
        whens = [(f"onboarding.{key}.{step}", scripted.when) for key, steps in bot.onboarding.items()
                 for step, scripted in enumerate(steps)]
        whens += [(f"nudges.{nudge.name}", nudge.when) for nudge in bot.nudges]
        for path, when in whens:
            if when is not None and when.level_below is not None and self.level(when.level_below) is None:
                raise ValueError(f"bot.{path}.when.level_below: no level {when.level_below!r}")
        from loyalty.domain.texts import TEXTS  # the catalog the brand rewords

        for key, languages in bot.texts.items():
            if key not in TEXTS:
                raise ValueError(f"bot.texts.{key}: no such text in the catalog (docs/bot.md lists them)")
            for language, text in languages.items():
                default = TEXTS[key].get(language)
                if default is None:
                    raise ValueError(f"bot.texts.{key}.{language}: the catalog has ru and en")
                extra = placeholders(text) - _derived(placeholders(default))
                if extra:
                    raise ValueError(f"bot.texts.{key}.{language}: unknown placeholder {{{sorted(extra)[0]}}}")
        return self

    @model_validator(mode="after")
    def _campaigns(self) -> "Program":
        names = [campaign.name for campaign in self.campaigns]
        if len(set(names)) != len(names):
            raise ValueError("campaigns: names must be unique")
        if sum(campaign.kind == "expiring" for campaign in self.campaigns) > 1:
            raise ValueError("campaigns: one expiring-points reminder at most")
        channels = {channel.name for channel in self.channels} | {"d2c", "other"}
        for index, campaign in enumerate(self.campaigns):
            if campaign.segment is not None and campaign.segment not in self.segments:
                raise ValueError(f"campaigns.{index}.segment: no segment {campaign.segment!r} in segments")
            if campaign.goal.channel is not None and campaign.goal.channel not in channels:
                raise ValueError(f"campaigns.{index}.goal.channel: no channel {campaign.goal.channel!r}")
        return self

    def campaign(self, name: str) -> Campaign | None:
        return next((campaign for campaign in self.campaigns if campaign.name == name), None)

    @property
    def expiry_reminder(self) -> Campaign | None:
        """The campaign that reminds of expiring points (None: the built-in message, sent as a notice)."""
        return next((campaign for campaign in self.campaigns if campaign.kind == "expiring"), None)

    @model_validator(mode="after")
    def _levels(self) -> "Program":
        if self.levels and self.levels[0].entry:
            raise ValueError("levels: the first level is where everyone starts; it has no entry conditions")
        if any(not level.entry for level in self.levels[1:]):
            raise ValueError("levels: every level after the first needs entry conditions")
        if len({level.id for level in self.levels}) != len(self.levels):
            raise ValueError("levels: ids must be unique")
        return self

    @model_validator(mode="after")
    def _challenges(self) -> "Program":
        if len({challenge.id for challenge in self.challenges}) != len(self.challenges):
            raise ValueError("challenges: ids must be unique")
        return self

    @model_validator(mode="after")
    def _draw(self) -> "Program":
        """A prize names a reward of the catalog; level_spins name levels."""
        if self.draw is None:
            return self
        rewards, levels = {reward.id for reward in self.bot.rewards}, {level.id for level in self.levels}
        for prize in self.draw.prizes:
            if prize.reward is not None and prize.reward not in rewards:
                raise ValueError(f"draw.prizes.{prize.id}.reward: no reward {prize.reward!r} in bot.rewards")
        for level in self.draw.level_spins:
            if level not in levels:
                raise ValueError(f"draw.level_spins: no level {level!r}")
        return self

    @model_validator(mode="after")
    def _interests(self) -> "Program":
        """A segment's or a campaign text's interest is one the profile asks, with its options."""
        for name, segment in self.segments.items():
            for part in segment.parts():
                for interest_id, options in (part.interests or {}).items():
                    interest = self.profile.interest(interest_id)
                    if interest is None:
                        raise ValueError(f"segments.{name}.interests: no profile interest {interest_id!r}")
                    unknown = [option for option in options if interest.option(option) is None]
                    if unknown:
                        raise ValueError(f"segments.{name}.interests.{interest_id}: no option {unknown[0]!r}")
        for campaign in self.campaigns:
            for interest_id in PLACEHOLDER.findall(campaign.model_dump_json()):
                if self.profile.interest(interest_id) is None:
                    raise ValueError(f"campaigns.{campaign.name}: {{interest_{interest_id}}} names no profile "
                                     "interest")
        return self

    @model_validator(mode="after")
    def _community(self) -> "Program":
        if self.community is not None and self.level(self.community.min_level) is None:
            raise ValueError(f"community.min_level: no level {self.community.min_level!r}")
        return self

    @model_validator(mode="after")
    def _birthday(self) -> "Program":
        gift = self.birthday
        if gift is not None and gift.min_level is not None and self.level(gift.min_level) is None:
            raise ValueError(f"birthday.min_level: no level {gift.min_level!r}")
        return self

    def reward_prices(self) -> dict[str, int]:
        """Each catalog reward's price in points (what a reward won in the draw costs its budget)."""
        return {reward.id: reward.points for reward in self.bot.rewards}

    def challenge(self, challenge_id: str) -> Challenge | None:
        return next((challenge for challenge in self.challenges if challenge.id == challenge_id), None)

    def channel_kind(self, name: str) -> str:
        """marketplace or retail for a registered channel; `d2c` and `other` are their own kinds."""
        return next((channel.kind for channel in self.channels if channel.name == name), name)

    def level_title(self, level_id: str | None, language: str) -> str:
        level = self.member_level(level_id)
        return words(level.title, language) if level else self.brand.name

    def place(self, channel: str | None, store: str | None) -> Place:
        """Where a purchase was, for a text: the brand's own store, a registered channel, or the seller as its
        receipt names it. Without its channel (a lot keeps only the store's title), the title finds it."""
        if channel == "d2c" or (channel is None and store == self.brand.name):
            return Place(self.brand.name, self.brand.forms)
        registered = next((known for known in self.channels if known.name == channel), None) or next(
            (known for known in self.channels if store and store in (known.title, words(known.title, "ru"))), None)
        if registered is not None:
            return Place(registered.title, registered.forms)
        return Place(store or "?")

    def channel_title(self, name: str, language: str) -> str | None:
        channel = next((channel for channel in self.channels if channel.name == name), None)
        return words(channel.title, language) if channel else None

    def level(self, level_id: str | None) -> Level | None:
        return next((level for level in self.levels if level.id == level_id), None)

    def member_level(self, level_id: str | None) -> Level | None:
        """The level a member with `level_id` is on: that one, or the first (everyone's) before they earned any;
        None only in a program without levels."""
        return self.level(level_id) or (self.levels[0] if self.levels else None)

    def goods_rule(self, gtin: str | None, category: str | None) -> GoodsRule | None:
        by_gtin = next((rule for rule in self.earning.goods if gtin and rule.gtin == gtin), None)
        return by_gtin or next((rule for rule in self.earning.goods if category and rule.category == category), None)
