"""The contact policy (the program file's `contact:`): when a message that is not a direct answer may reach a member.

Campaigns, nudges, onboarding, surveys, reminders and "points available" are *letters*: each is due at a moment,
and the postman (flows/followups.py) sends what the policy lets through, as pure rules here:

- **Quiet hours** in the member's time zone (from their language, or the one they chose with /timezone): a letter
  due at night waits for the morning.
- **Spacing**: two letters never reach a member closer together than `spacing_minutes`. Transactional letters
  (points credited, available, expiring or expired) due together are merged into one message.
- **Caps** on marketing letters (surveys, onboarding, nudges, campaigns) a day and a week; transactional ones do not
  count toward them.
- **Priority** when several are due: the merged transactional message, the brand's expiry reminder, then a survey,
  onboarding, a nudge, a campaign. What does not fit moves to the next free slot; a letter that has waited past its
  kind's `max_delay_hours` is dropped and counted, never sent late.
"""


from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from loyalty.domain.bot_program import Words

_WEEK = timedelta(days=7)
_MAX_STEPS = 64  # a slot is found in a handful of steps; a policy that admits none would loop forever


class _Strict(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)


class Kind(StrEnum):
    """What a letter is, in the order of priority when several are due."""

    NOTICE = "notice"  # transactional: points credited, available, expiring, expired; a promo code back
    REMINDER = "reminder"  # transactional too: the brand's own "points expire soon" campaign (kind expiring)
    SURVEY = "survey"
    ONBOARDING = "onboarding"
    NUDGE = "nudge"
    CAMPAIGN = "campaign"


PRIORITY = {kind: order for order, kind in enumerate(Kind)}


def marketing(kind: str) -> bool:
    """Whether a letter counts toward the caps: what the member did not ask to know (points news does not)."""
    return kind not in (Kind.NOTICE, Kind.REMINDER)


class QuietHours(_Strict):
    start: time = Field(default=time(21), description="from this local time …")
    end: time = Field(default=time(10), description="… until this one, letters wait")

    def quiet(self, local: time) -> bool:
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


class Caps(_Strict):
    per_day: int = Field(default=2, ge=0, description="marketing letters a member gets in a local day, at most")
    per_week: int = Field(default=5, ge=0, description="… and in any 7 days")


class ZoneChoice(_Strict):
    """A time zone a member may pick with /timezone, named as they know it."""

    zone: str
    title: Words

    @field_validator("zone")
    @classmethod
    def _known(cls, name: str) -> str:
        known_zone(name)
        return name


def _russian_zones() -> list[ZoneChoice]:
    named = [("Europe/Kaliningrad", "Калининград", "Kaliningrad"), ("Europe/Moscow", "Москва", "Moscow"),
             ("Europe/Samara", "Самара", "Samara"), ("Asia/Yekaterinburg", "Екатеринбург", "Yekaterinburg"),
             ("Asia/Omsk", "Омск", "Omsk"), ("Asia/Novosibirsk", "Новосибирск", "Novosibirsk"),
             ("Asia/Krasnoyarsk", "Красноярск", "Krasnoyarsk"), ("Asia/Irkutsk", "Иркутск", "Irkutsk"),
             ("Asia/Yakutsk", "Якутск", "Yakutsk"), ("Asia/Vladivostok", "Владивосток", "Vladivostok"),
             ("Asia/Magadan", "Магадан", "Magadan"), ("Asia/Kamchatka", "Камчатка", "Kamchatka")]
    return [ZoneChoice(zone=zone, title={"ru": ru, "en": en}) for zone, ru, en in named]


def _max_delays() -> dict[Kind, int]:
    return {Kind.NOTICE: 72, Kind.REMINDER: 48, Kind.SURVEY: 72, Kind.ONBOARDING: 96, Kind.NUDGE: 72, Kind.CAMPAIGN: 48}


class Contact(_Strict):
    quiet_hours: QuietHours = Field(default_factory=QuietHours)
    time_zones: dict[str, str] = Field(default_factory=lambda: {"ru": "Europe/Moscow", "en": "Europe/Moscow"},
                                       description="a member's time zone by their language, unless they chose one")
    zone_choices: list[ZoneChoice] = Field(default_factory=_russian_zones, max_length=24,
                                           description="what /timezone offers a member (Russia's zones by default)")
    spacing_minutes: int = Field(default=120, ge=0, le=24 * 60,
                                 description="between two letters to one member, at least")
    marketing: Caps = Field(default_factory=Caps)
    max_delay_hours: dict[Kind, int] = Field(default_factory=_max_delays,
                                             description="a letter that waited longer is dropped, not sent late")

    @field_validator("time_zones")
    @classmethod
    def _known_zones(cls, zones: dict[str, str]) -> dict[str, str]:
        for name in zones.values():
            known_zone(name)
        return zones

    @model_validator(mode="after")
    def _every_kind_has_a_delay(self) -> "Contact":
        missing = set(Kind) - set(self.max_delay_hours)
        if missing:
            raise ValueError(f"max_delay_hours: give every kind ({', '.join(sorted(missing))} missing)")
        if any(hours < 1 for hours in self.max_delay_hours.values()):
            raise ValueError("max_delay_hours: at least 1 hour each")
        return self

    def zone(self, language: str, chosen: str | None = None) -> ZoneInfo:
        """The member's time zone: the one they chose, else their language's, else Moscow."""
        for name in (chosen, self.time_zones.get(language), "Europe/Moscow"):
            if name:
                try:
                    return known_zone(name)
                except ValueError:
                    continue
        raise AssertionError("Europe/Moscow is always known")

    def zone_choice(self, name: str) -> ZoneChoice | None:
        return next((choice for choice in self.zone_choices if choice.zone == name), None)

    def max_delay(self, kind: str) -> timedelta:
        return timedelta(hours=self.max_delay_hours.get(Kind(kind), 48))


def known_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"{name!r} is not a time zone (e.g. Europe/Moscow, Asia/Yekaterinburg)") from error


class Sent(BaseModel):
    """A letter that reached the member: when, and whether the caps count it."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    at: datetime
    marketing: bool


def next_slot(contact: Contact, zone: ZoneInfo, now: datetime, sent: list[Sent], is_marketing: bool) -> datetime:
    """The earliest moment from `now` at which a letter may reach the member: outside quiet hours, spaced from the
    last letter, and (marketing) under the day's and the week's caps."""
    spacing = timedelta(minutes=contact.spacing_minutes)
    last = max((one.at for one in sent), default=None)
    at = max(now, last + spacing) if last else now
    for _ in range(_MAX_STEPS):
        local = at.astimezone(zone)
        if contact.quiet_hours.quiet(local.time()):
            at = _morning(contact, local)
            continue
        if is_marketing:
            later = _after_caps(contact, zone, at, [one.at for one in sent if one.marketing])
            if later > at:
                at = later
                continue
        return at
    raise ValueError("the contact policy admits no moment at all")


def _morning(contact: Contact, local: datetime) -> datetime:
    """The end of the quiet hours that hold at `local`."""
    end = local.replace(hour=contact.quiet_hours.end.hour, minute=contact.quiet_hours.end.minute, second=0,
                        microsecond=0)
    return end if end > local else end + timedelta(days=1)


def _after_caps(contact: Contact, zone: ZoneInfo, at: datetime, marketing_sent: list[datetime]) -> datetime:
    """`at`, or the first moment after it when the caps have room again (the next local day; the week's oldest
    letter leaving the window)."""
    caps, local = contact.marketing, at.astimezone(zone)
    if caps.per_day == 0 or caps.per_week == 0:
        raise ValueError("the contact policy admits no marketing letter")
    today = [one for one in marketing_sent if one.astimezone(zone).date() == local.date()]
    if len(today) >= caps.per_day:
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        return midnight
    week = sorted(one for one in marketing_sent if one > at - _WEEK)
    if len(week) >= caps.per_week:
        return week[len(week) - caps.per_week] + _WEEK
    return at


class Due(BaseModel):
    """A letter due now, as the policy sees it."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    id: str
    kind: str
    scheduled_for: datetime  # when it was first due: its max delay counts from here


class Plan(BaseModel):
    """What the postman does with one member's due letters now."""

    model_config = ConfigDict(defer_build=True)

    send: list[str] = Field(default_factory=list, description="sent now, as one message (notices merged)")
    postpone: dict[str, datetime] = Field(default_factory=dict, description="held until their next slot")
    drop: list[str] = Field(default_factory=list, description="waited past their max delay")


def plan(contact: Contact, zone: ZoneInfo, due: list[Due], sent: list[Sent], now: datetime) -> Plan:
    """One message at most now: every due notice merged, else the first marketing letter by priority. The rest wait
    for their next slot; what waited too long is dropped."""
    result = Plan()
    alive = []
    for letter in due:
        if now - letter.scheduled_for > contact.max_delay(letter.kind):
            result.drop.append(letter.id)
        else:
            alive.append(letter)
    alive.sort(key=lambda letter: (PRIORITY[Kind(letter.kind)], letter.scheduled_for, letter.id))
    after = list(sent)
    if alive:
        first = alive[0]
        slot = next_slot(contact, zone, now, sent, marketing(first.kind))
        if slot <= now:
            chosen = [letter for letter in alive if letter.kind == Kind.NOTICE] or [first]
            result.send = [letter.id for letter in chosen]
            after.append(Sent(at=now, marketing=marketing(first.kind)))
    for letter in alive:
        if letter.id not in result.send:
            result.postpone[letter.id] = next_slot(contact, zone, now, after, marketing(letter.kind))
    return result
