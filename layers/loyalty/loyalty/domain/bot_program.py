"""The bot's part of the program file (`bot:`): where shoppers come from, the store guides, what follows a first
receipt, the nudges, the survey, the rewards catalog and the brand's own wording. Pure types, validated on load.

Every text a shopper reads here is `Words`: one string for every language, or one per language (`ru` required):
the program's own words are translated like the bot's catalog.
"""


from collections.abc import Callable
from string import Formatter
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from loyalty.domain.spans import MAX_DAYS
from loyalty.domain.staff import StaffMember


class _Strict(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)


def _translated(value: str | dict[str, str]) -> str | dict[str, str]:
    if isinstance(value, dict):
        if "ru" not in value:
            raise ValueError("a translated text needs its ru version")
        if any(not text.strip() for text in value.values()):
            raise ValueError("a translated text cannot be empty")
    elif not value.strip():
        raise ValueError("a text cannot be empty")
    return value


Words = Annotated[str | dict[str, str], AfterValidator(_translated)]


def words(value: str | dict[str, str], language: str) -> str:
    """The text in `language` (Russian where the brand gave no translation)."""
    return value if isinstance(value, str) else value.get(language) or value["ru"]


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name}


_KEY = r"^[a-z0-9][a-z0-9_]{0,23}$"  # fits a /start payload and a callback's 64 bytes with room to spare


class Source(_Strict):
    """Where a `t.me/<bot>?start=<key>` link is printed: a pack's QR code, a marketplace's insert card, a shop's
    counter, a blogger's post. Kept on the member as `<kind>:<key>` for targeting and the report."""

    kind: Literal["pack", "insert", "shop", "blogger", "ad"]
    channel: str | None = Field(default=None, description="the store an insert or a shop belongs to")


class LinkButton(_Strict):
    text: Words
    url: str = Field(pattern=r"^https://")


class When(_Strict):
    """What a scripted message assumes of the member, checked when it is sent (not when it was scheduled): one whose
    assumption no longer holds is not sent, so no message says what is no longer true."""

    points_pending: bool | None = Field(default=None, description="true: some of their points still wait (a "
                                        "return period); false: none wait")
    points_available: bool | None = Field(default=None, description="true: they have points to spend now")
    level_below: str | None = Field(default=None, description="their level is below this one (a level id)")

    def holds(self, pending: int, available: int, level_rank: int, rank_of: Callable[[str], int]) -> bool:
        """Whether it is still so: `level_rank` the member's level's place, `rank_of` a level id's."""
        return ((self.points_pending is None or self.points_pending == (pending > 0))
                and (self.points_available is None or self.points_available == (available > 0))
                and (self.level_below is None or level_rank < rank_of(self.level_below)))


class Scripted(_Strict):
    """One message of a sequence: sent `after_hours` after what starts it (the first receipt), while `when` holds."""

    after_hours: float = Field(ge=0, le=24 * 90)
    text: Words
    buttons: list[LinkButton] = Field(default_factory=list, max_length=3)
    when: When | None = None
    on: bool = Field(default=True, description="off: not scheduled after new receipts (the console's switch)")


class StoreGuide(_Strict):
    """One screen: where the QR code is on this store's receipt, and how to send it."""

    key: str = Field(pattern=_KEY)
    title: Words
    text: Words


class Nudge(_Strict):
    """Move buyers from a marketplace to the brand's site (or between marketplaces): a calm, concrete message with
    a tracked link, `after_hours` after a receipt from one of `after_purchase_in` (channel names or kinds), at most
    once every `every_days`, and never again once the member says it is not for them."""

    name: str = Field(pattern=_KEY)
    title: str | None = Field(default=None, description="what the report calls it, in Russian (its name if none)")
    after_purchase_in: list[str] = Field(min_length=1)
    after_hours: float = Field(default=24, ge=0, le=24 * 90)
    every_days: int = Field(default=30, ge=1, le=MAX_DAYS)
    text: Words
    link: LinkButton
    goal_channel: str | None = Field(default=None, description="a purchase here within goal_days converts it")
    goal_days: int = Field(default=14, ge=1, le=MAX_DAYS)
    when: When | None = None
    on: bool = Field(default=True, description="off: not scheduled after new receipts (the console's switch)")


class Survey(_Strict):
    """A 1–5 rating of the goods `after_hours` after an accepted receipt (at most once every `every_days`); a good
    one asks for a review where they bought (`review_links` by channel name or kind)."""

    after_hours: float = Field(default=72, ge=0, le=24 * 90)
    every_days: int = Field(default=30, ge=1, le=MAX_DAYS)
    nps: bool = Field(default=False, description="after the rating, ask how likely they are to recommend the brand "
                      "to a friend, 0–10: the dashboard's NPS")
    review_links: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _links(self) -> "Survey":
        for channel, url in self.review_links.items():
            if not url.startswith("https://"):
                raise ValueError(f"review_links.{channel}: a link starts with https://")
        return self


class Reward(_Strict):
    """Something points buy in the bot: goods, merch or a perk, from `min_level` up, while `stock` lasts."""

    id: str = Field(pattern=_KEY)
    title: Words
    points: int = Field(ge=1)
    min_level: str | None = None
    stock: int | None = Field(default=None, ge=0, description="how many ever: those taken count against it; none: "
                              "unlimited")
    image: str | None = Field(default=None, pattern=r"^https://", description="its picture, in the Mini App")


class BotProgram(_Strict):
    rules_url: str | None = Field(default=None, pattern=r"^https://", description="the program rules shoppers accept")
    site_url: str | None = Field(default=None, pattern=r"^https://", description="the brand's own shop")
    staff_chat_id: int | None = Field(default=None, description="the brand's Telegram chat for complaints, reviews, "
                                      "reward orders")
    staff: list[StaffMember] = Field(default_factory=list, description="who may decide and answer in the staff "
                                     "chat, by Telegram id, with a role (owner, marketer, support, viewer)")
    sources: dict[str, Source] = Field(default_factory=dict, description="/start payload key -> where it is printed")
    store_guides: list[StoreGuide] = Field(default_factory=list)
    onboarding: dict[str, list[Scripted]] = Field(default_factory=dict, description="by channel name or kind")
    nudges: list[Nudge] = Field(default_factory=list)
    survey: Survey | None = None
    rewards: list[Reward] = Field(default_factory=list)
    texts: dict[str, dict[str, str]] = Field(default_factory=dict, description="the brand's wording of catalog texts")

    @model_validator(mode="after")
    def _unique(self) -> "BotProgram":
        for name, keys in (("nudges", [n.name for n in self.nudges]), ("rewards", [r.id for r in self.rewards]),
                           ("store_guides", [g.key for g in self.store_guides])):
            if len(set(keys)) != len(keys):
                raise ValueError(f"{name}: names must be unique")
        if len({person.telegram_id for person in self.staff}) != len(self.staff):
            raise ValueError("staff: each Telegram id once")
        for key in self.sources:
            if not key.replace("_", "").isalnum() or key.startswith(("ref_", "c_")) or len(key) > 24:
                raise ValueError(f"sources.{key}: a key is up to 24 letters, digits and _, not ref_… or c_…")
        return self

    def source(self, key: str) -> str | None:
        """What a /start key says about where the member came from (`insert:wb`), None for an unknown key."""
        found = self.sources.get(key)
        return f"{found.kind}:{key}" if found else None

    def reward(self, reward_id: str) -> Reward | None:
        return next((reward for reward in self.rewards if reward.id == reward_id), None)

    def staff_member(self, user_id: int) -> StaffMember | None:
        return next((person for person in self.staff if person.telegram_id == user_id), None)

    def nudge(self, name: str) -> Nudge | None:
        return next((nudge for nudge in self.nudges if nudge.name == name), None)
