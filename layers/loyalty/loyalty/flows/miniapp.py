"""The member's Mini App (`webapp_api`): at a glance, how much they have, what it buys and how close the next level
is. Read-only but for two requests the bot already knows how to fulfil: exchanging a reward and a promo code,
both queued on AccrualQueue exactly as the bot's buttons queue them (the answer comes in the chat as well)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from loyalty.contracts import BirthdayGiven, PromoRequested, RewardRequested, Shopper
from loyalty.domain import levels
from loyalty.domain.birthday import Unreadable, correctable_from
from loyalty.domain.birthday import parse as parse_birthday
from loyalty.domain.bot_program import words
from loyalty.domain.challenges import badge_titles, reward_words, shown
from loyalty.domain.community import entitled
from loyalty.domain.history import history_lines
from loyalty.domain.messages import day_month, how_many, joined, render
from loyalty.domain.qr import parse_qr
from loyalty.domain.receipt import MOSCOW
from loyalty.flows.rewards import RewardView, catalog
from loyalty.flows.submissions import NOT_COUNTED, Submissions
from loyalty.observability import logger

if TYPE_CHECKING:
    from loyalty.domain.keyed import Keyed
    from loyalty.domain.member import Member
    from loyalty.domain.program import Program
    from loyalty.flows.crm_feed import CrmFeed
    from loyalty.flows.ports import BotMemory, BotMethods, Ledger, Members, Queue
    from loyalty.flows.replies import Replies

HISTORY_LENGTH = 20


class NotAMember(Exception):
    """The Telegram user has not joined the program (no phone shared yet)."""


class PendingPoints(BaseModel):
    model_config = ConfigDict(defer_build=True)

    points: int
    available_on: str  # YYYY-MM-DD, Moscow


class NextLevel(BaseModel):
    model_config = ConfigDict(defer_build=True)

    title: str
    percent: str
    missing: str  # «4 чека и 1 отзыв»
    done: float  # 0..1, for the progress bar


class LevelView(BaseModel):
    model_config = ConfigDict(defer_build=True)

    id: str | None
    title: str
    percent: str
    perks: list[str]
    next: NextLevel | None


class PromoView(BaseModel):
    model_config = ConfigDict(defer_build=True)

    code: str
    points: int
    until: str


class ChallengeView(BaseModel):
    model_config = ConfigDict(defer_build=True)

    id: str
    title: str
    standing: str  # «1 из 3 чеков, осталось 23 дня»
    reward: str  # «+100 баллов и значок «Три чека»»


class OptionView(BaseModel):
    model_config = ConfigDict(defer_build=True)

    id: str
    title: str
    chosen: bool


class InterestView(BaseModel):
    model_config = ConfigDict(defer_build=True)

    id: str
    title: str
    multiple: bool
    options: list[OptionView]


class ProfileView(BaseModel):
    """What the member told about themselves, as the profile's form shows it."""

    model_config = ConfigDict(defer_build=True)

    birthday: str | None  # «14 мая»
    birthday_day: str | None  # "14.05", the form's value
    birthday_locked_until: str | None  # «7 декабря»: a correction waits a year from the last
    gift: str | None  # «300 баллов за 3 дня до дня рождения», where the program gives one
    interests: list[InterestView]
    language: str
    marketing: bool


class ProfileRefused(Exception):
    """A profile change that cannot be kept: the message says what to do, in the member's language."""


class CommunityView(BaseModel):
    model_config = ConfigDict(defer_build=True)

    title: str
    link: str | None  # the invite link, where the member's level opens it
    from_level: str  # the level that opens it


class Me(BaseModel):
    """GET /miniapp/api/me."""

    model_config = ConfigDict(defer_build=True)

    language: str
    brand: str
    available: int
    pending: int
    held: int
    pending_lots: list[PendingPoints]
    level: LevelView
    history: list[str]
    rewards: list[RewardView]
    challenges: list[ChallengeView]
    badges: list[str]
    promo_codes: list[PromoView]
    promo_min_points: int
    profile: ProfileView
    community: CommunityView | None
    invite_link: str
    site_url: str | None


class ProfileChange(BaseModel):
    """POST /miniapp/api/profile: what the member changed (a part left out is left as it is)."""

    model_config = ConfigDict(defer_build=True)

    request_key: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    birthday: str | None = Field(default=None, max_length=40, description="«14.05», «14 мая»")
    interests: dict[str, list[str]] | None = None
    language: str | None = Field(default=None, pattern=r"^(ru|en)$")
    marketing: bool | None = None


class MiniApp:
    def __init__(self, program: Program, members: Members, ledger: Ledger, table: BotMemory,
                 accrual_queue: Queue, keyed: Keyed, replies: Replies | None = None, bot: BotMethods | None = None,
                 crm: CrmFeed | None = None):
        self.program = program
        self.keyed = keyed
        self.members = members
        self.ledger = ledger
        self.table = table
        self.accrual_queue = accrual_queue
        # a receipt scanned in the app takes the chat's way (its limits; its answers go to the chat)
        self.submissions = Submissions(program, members, replies, keyed) if replies is not None else None
        self.bot = bot  # the Bot API: an invitation prepared for Telegram's share sheet
        self.crm = crm  # marketing switched on or off is told to the CRM, as /stop and /start tell it

    def me(self, member_id: str, now: datetime) -> Me:
        member = self._member(member_id)  # read once: the language and the profile are both its
        program, language = self.program, member.language
        wallet = self.ledger.read(member_id)[0]
        available = wallet.spendable_points(now)
        pending = sorted(((lot.available_at, lot.points) for lot in wallet.lots.values()
                          if not lot.active and lot.points > 0), key=lambda pair: pair[0])
        return Me(
            language=language, brand=program.brand.name, available=available, pending=wallet.balance.pending,
            held=wallet.balance.held,
            pending_lots=[PendingPoints(points=points, available_on=_day(when)) for when, points in pending],
            level=self._level(wallet, language, now),
            history=history_lines(self.ledger.history(member_id, HISTORY_LENGTH), language, program),
            rewards=catalog(program, wallet, available, self.table, language),
            challenges=[ChallengeView(id=challenge.id, title=words(challenge.title, language), standing=standing,
                                      reward=reward_words(challenge.reward, language))
                        for challenge, standing in shown(program.challenges, wallet.challenges, now, language)],
            badges=badge_titles(program.challenges, (badge.challenge for badge in wallet.badges), language),
            promo_codes=[PromoView(code=hold.code, points=hold.points, until=_day(hold.expires_at))
                         for hold in wallet.holds.values() if hold.code],
            promo_min_points=program.redemption.promo_min_points,
            profile=self._profile(member, wallet, language, now),
            community=CommunityView(title=words(program.community.title, language),
                                    link=program.community.invite_link if entitled(program, wallet) else None,
                                    from_level=program.level_title(program.community.min_level, language))
            if program.community is not None else None,
            invite_link=self._invite_link(member_id),
            site_url=program.bot.site_url,
        )

    def exchange(self, member_id: str, reward_id: str, request_key: str) -> dict[str, Any]:
        """Queue the exchange as the bot's confirmation does; `request_key` (the page's own id for this tap) makes
        a repeated request order nothing more."""
        shopper = self.shopper(member_id)
        if self.program.bot.reward(reward_id) is None:
            raise KeyError(reward_id)
        order = self.keyed.id("order", member_id, reward_id, "miniapp", request_key)
        self.accrual_queue.put(RewardRequested(shopper=shopper, reward_id=reward_id, order_id=order))
        return {"order": order, "status": "queued"}

    def promo(self, member_id: str, points: int | None, request_key: str) -> dict[str, Any]:
        shopper = self.shopper(member_id)
        self.accrual_queue.put(PromoRequested(request_id=f"miniapp:{self.keyed.id('promo', member_id, request_key)}",
                                              shopper=shopper, points=points))
        return {"status": "queued"}

    def change_profile(self, member_id: str, change: ProfileChange, now: datetime) -> ProfileView:
        """Keep what the member changed in their profile: each part as the bot keeps it (the birthday through the
        ledger, as /birthday; marketing as /stop and /start). ProfileRefused says what cannot be kept."""
        shopper = self.shopper(member_id)
        language = change.language if change.language in ("ru", "en") else shopper.language
        if change.birthday:
            self._birthday(shopper, change.birthday, change.request_key, now)
        if change.interests is not None:
            try:
                cleaned = self.program.profile.cleaned(change.interests)
            except ValueError as error:
                raise ProfileRefused(str(error)) from error
            member = self.members.get(member_id)
            self.members.keep_interests(member_id, {**(member.interests if member else {}), **cleaned})
        if change.language in ("ru", "en"):
            self.members.choose_language(member_id, change.language)
        if change.marketing is not None:
            self._marketing(member_id, change.marketing, change.request_key, now)
        return self._profile(self._member(member_id), self.ledger.read(member_id)[0], language, now)

    def _birthday(self, shopper: Shopper, text: str, request_key: str, now: datetime) -> None:
        try:
            month, day = parse_birthday(text)
        except Unreadable as error:
            raise ProfileRefused(render("birthday_unreadable", shopper.language)) from error
        given = self.ledger.read(shopper.member_id)[0].birthday
        if given is not None and (given.month, given.day) != (month, day) and now < correctable_from(given):
            raise ProfileRefused(render("birthday_locked", shopper.language,
                                        date=day_month(correctable_from(given), shopper.language)))
        request = self.keyed.id("birthday", shopper.member_id, request_key)
        self.accrual_queue.put(BirthdayGiven(request_id=f"miniapp:{request}", shopper=shopper, month=month, day=day))

    def _marketing(self, member_id: str, on: bool, request_key: str, now: datetime) -> None:
        """The switch of marketing messages: /start's and /stop's, told to the CRM as they tell it."""
        key = f"miniapp:{self.keyed.id('marketing', member_id, request_key)}"
        if on:
            self.members.subscribe(member_id)
            if self.crm is not None:
                self.crm.updated(member_id, key, now, subscribed=True)
        else:
            self.members.unsubscribe(member_id)
            if self.crm is not None:
                self.crm.unsubscribed(member_id, key, now)

    def _profile(self, member: Member, wallet: Any, language: str, now: datetime) -> ProfileView:
        chosen = member.interests
        birthday, gift = wallet.birthday, self.program.birthday
        return ProfileView(
            birthday=birthday.words(language) if birthday else None,
            birthday_day=f"{birthday.day:02d}.{birthday.month:02d}" if birthday else None,
            birthday_locked_until=day_month(correctable_from(birthday), language)
            if birthday and now < correctable_from(birthday) else None,
            gift=render("profile_gift", language, points=gift.points, days=gift.days_before) if gift else None,
            interests=[InterestView(id=interest.id, title=words(interest.title, language), multiple=interest.multiple,
                                    options=[OptionView(id=option.id, title=words(option.title, language),
                                                        chosen=option.id in chosen.get(interest.id, ()))
                                             for option in interest.options])
                       for interest in self.program.profile.interests],
            language=language, marketing=member.subscribed)

    def scanned(self, member_id: str, text: str, request_key: str) -> str:
        """A receipt's QR code read by Telegram's scanner: into the receipt pipeline exactly as the chat sends it
        (InvalidQr for a code that is not a receipt's). What happened: receipt_submitted, or why not (a limit; the
        chat says when to try again)."""
        shopper = self.shopper(member_id)
        parse_qr(text)
        assert self.submissions is not None, "scanning needs the outbox the chat's answers go through"
        key = f"miniapp:{self.keyed.id('scan', member_id, request_key)}"
        submitted, outcome = self.submissions.admit(shopper, self.members.get(member_id), key, NOT_COUNTED, qr=text)
        if submitted is not None:
            self.accrual_queue.put(submitted)
        logger.info("receipt scanned in the mini app", extra={"member_id": member_id, **outcome})
        return str(outcome["action"])

    def invitation(self, member_id: str) -> str:
        """The member's invitation as a message Telegram's share sheet sends (savePreparedInlineMessage): the brand's
        card, a word from the member and the link. Its id, for the page's shareMessage."""
        shopper = self.shopper(member_id)
        assert self.bot is not None, "an invitation needs the Bot API"
        brand, language, link = self.program.brand, shopper.language, self._invite_link(member_id)
        text = render("invite_card", language, brand=brand.name, points=self.program.bonuses.referred, link=link)
        button = {"inline_keyboard": [[{"text": render("invite_card_button", language, brand=brand.name),
                                        "url": link}]]}
        result: dict[str, Any] = {"id": self.keyed.id("invite", member_id), "reply_markup": button}
        if brand.card_image:
            result |= {"type": "photo", "photo_url": brand.card_image, "thumbnail_url": brand.card_image,
                       "caption": text}
        else:
            result |= {"type": "article", "title": render("invite_card_title", language, brand=brand.name),
                       "description": link, "input_message_content": {"message_text": text}}
        prepared = self.bot.call("savePreparedInlineMessage", user_id=int(member_id), result=result,
                                 allow_user_chats=True, allow_group_chats=True)
        return str(prepared["id"])

    # ------------------------------------------------------------------ parts
    def _invite_link(self, member_id: str) -> str:
        return f"https://t.me/{self.program.brand.bot_username or 'bot'}?start=ref_{self.table.invite_code(member_id)}"

    def shopper(self, member_id: str) -> Shopper:
        """The member as the bot addresses them; NotAMember until they shared their phone."""
        member = self._member(member_id)
        assert member.chat_id is not None  # _member saw to it
        return Shopper(member_id=member_id, chat_id=member.chat_id, language=member.language)

    def _member(self, member_id: str) -> Member:
        member = self.members.get(member_id)
        if member is None or not member.phone or member.chat_id is None:
            raise NotAMember(member_id)
        return member

    def _level(self, wallet: Any, language: str, now: datetime) -> LevelView:
        program = self.program
        level = program.member_level(wallet.level)
        if level is None:
            return LevelView(id=None, title=program.brand.name, percent=f"{program.earning.base_percent.normalize():f}",
                             perks=[], next=None)
        gap = levels.next_level_gap(program, wallet, now)
        upper = None if gap is None else NextLevel(
            title=words(gap.level.title, language), percent=f"{gap.level.percent.normalize():f}",
            missing=joined([how_many(count, what, language) for what, count in gap.missing.items()], language),
            done=gap.done)
        return LevelView(id=level.id, title=words(level.title, language), percent=f"{level.percent.normalize():f}",
                         perks=[words(perk, language) for perk in level.perks], next=upper)


def _day(moment: datetime) -> str:
    return moment.astimezone(MOSCOW).date().isoformat()
