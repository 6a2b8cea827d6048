"""The reviewed program file as the console shows it, read-only, in a marketer's words: the version deployed, the
levels with their rates and what opens them, and the earning rules. These change with a reviewed change to the file
and a deploy, never from the console. Also what the composer offers to pick from: the catalog's products. Pure."""


import hashlib
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from loyalty.domain.bot_program import words
from loyalty.domain.dashboard import source_title
from loyalty.domain.messages import plural

if TYPE_CHECKING:
    from loyalty.domain.program import Condition, GoodsRule, Program


class LevelView(BaseModel):
    model_config = ConfigDict(defer_build=True)

    id: str  # how a reward names the level that opens it
    title: str
    percent: str  # the accrual rate, "10 %"
    opens: str  # what opens it, in words
    perks: list[str]


class ProductView(BaseModel):
    model_config = ConfigDict(defer_build=True)

    key: str  # how a segment names it: its GTIN
    name: str


class ChannelView(BaseModel):
    model_config = ConfigDict(defer_build=True)

    name: str  # how a campaign's goal names it
    title: str


class SourceView(BaseModel):
    model_config = ConfigDict(defer_build=True)

    via: str  # as the member keeps it: <kind>:<key>
    title: str


class ProgramView(BaseModel):
    model_config = ConfigDict(defer_build=True)

    version: str  # the deployed file's fingerprint: a change to it and a deploy change this
    levels: list[LevelView]
    earning: list[str]  # the rules, one sentence each
    products: list[ProductView]
    channels: list[ChannelView]  # where a goal's receipt may be asked to come from: the brand's site, each store
    categories: list[str]  # the catalog's categories, a segment may ask for
    sources: list[SourceView]  # the deep links a member may have come by
    segments: dict[str, Any]  # the program file's named segments, a campaign may pick (as the file writes them)


def version_of(text: bytes) -> str:
    """A program file's fingerprint: the first 12 hex digits of its SHA-256 (what `sha256sum` prints)."""
    return hashlib.sha256(text).hexdigest()[:12]


def program_view(program: "Program", version: str) -> ProgramView:
    return ProgramView(
        version=version,
        levels=[LevelView(id=level.id, title=words(level.title, "ru"), percent=_percent(level.percent),
                          opens=" или ".join(_condition(c) for c in level.entry) or "с первого дня",
                          perks=[words(perk, "ru") for perk in level.perks]) for level in program.levels],
        earning=_earning(program),
        products=[ProductView(key=entry.gtin, name=entry.name) for entry in program.brand.catalog if entry.gtin],
        channels=[ChannelView(name="d2c", title=f"сайт {program.brand.name}"),
                  *(ChannelView(name=channel.name, title=words(channel.title, "ru")) for channel in program.channels)],
        categories=sorted({entry.category for entry in program.brand.catalog if entry.category}),
        sources=[SourceView(via=via, title=source_title(program, via))
                 for via in (f"{source.kind}:{key}" for key, source in program.bot.sources.items())],
        segments={name: segment.model_dump(mode="json", by_alias=True, exclude_none=True)
                  for name, segment in program.segments.items()})


def _earning(program: "Program") -> list[str]:
    earning = program.earning
    rules = [] if program.levels else [f"Баллы: {_percent(earning.base_percent)} от суммы товаров бренда."]
    rules += [f"{'Все каналы' if channel == 'default' else channel}: баллы доступны через {days} "
              f"{plural(days, 'день', 'дня', 'дней')}" for channel, days in earning.pending_days.items() if days]
    if earning.expiry.after_days:
        rules.append(f"Баллы сгорают через {earning.expiry.after_days} дн."
                     + (f", в конце {'месяца' if earning.expiry.end_of == 'month' else 'года'}"
                        if earning.expiry.end_of else "")
                     + f"; напоминание за {earning.expiry.reminder_days} дн.")
    if earning.caps.per_day or earning.caps.per_month:
        rules.append(f"Не больше {earning.caps.per_day or '—'} баллов за чеки в день и "
                     f"{earning.caps.per_month or '—'} в месяц.")
    names = {entry.gtin: entry.name for entry in program.brand.catalog if entry.gtin}
    rules += [_goods(rule, names) for rule in earning.goods]
    return rules


def _goods(rule: "GoodsRule", names: dict[str, str]) -> str:
    """A goods rule in words: the product by its catalog name (a marketer never reads a GTIN)."""
    what = f"«{names.get(rule.gtin, rule.gtin)}»" if rule.gtin else f"категория «{rule.category}»"
    parts = []
    if rule.accrual_multiplier is not None:
        parts.append(f"баллы ×{_number(rule.accrual_multiplier)}")
    if rule.accrual_points is not None:
        parts.append(f"{rule.accrual_points} баллов за штуку")
    if rule.pay_share_percent is not None:
        parts.append(f"баллами до {_percent(rule.pay_share_percent)} цены")
    if rule.pay_points is not None:
        parts.append(f"баллами до {rule.pay_points} за штуку")
    return f"{what[0].upper()}{what[1:]}: {', '.join(parts)}."


def _condition(condition: "Condition") -> str:
    parts = []
    if condition.receipts:
        parts.append(f"{condition.receipts} {plural(condition.receipts, 'покупка', 'покупки', 'покупок')}")
    if condition.spend_roubles:
        parts.append(f"покупки на {condition.spend_roubles:,} ₽".replace(",", " "))
    if condition.reviews:
        parts.append(f"{condition.reviews} {plural(condition.reviews, 'отзыв', 'отзыва', 'отзывов')}")
    within = f" за {condition.within_days} дн." if condition.within_days else ""
    return (" и ".join(parts) or "сразу") + within


def _percent(value: Decimal) -> str:
    return _number(value) + " %"


def _number(value: Decimal) -> str:
    return f"{value.normalize():f}".replace(".", ",")
