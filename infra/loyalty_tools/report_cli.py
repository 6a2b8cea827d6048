"""`loyalty report [--since DATE] [--until DATE] [--json]`: what the program earns and costs, for the brand.

It reads the members table and the ledger once each (two scans: run it against a deployed stack's tables with
the usual AWS configuration, or the local stack's with AWS_ENDPOINT_URL), and each campaign's and nudge's counters
(all time: they are kept as running totals), and writes nothing.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TextIO

from loyalty.adapters.campaign_store import CampaignStore
from loyalty.adapters.ledger import LedgerRepository
from loyalty.adapters.members import MembersRepository
from loyalty.adapters.program_file import load_program
from loyalty.domain.messages import plural, points_word, receipts_word
from loyalty.domain.program import Program
from loyalty.domain.receipt import MOSCOW
from loyalty.domain.report import ProgramReport, ReportBuilder

# What the report reads of a member: no phone, no name, no chat.
_MEMBER_ATTRIBUTES = ("member_id", "joined_at", "joined_via", "referred_by", "consented_at", "subscribed",
                      "erased_at", "available", "pending", "held")
_OWN_CHANNELS = {"d2c": "сайт и магазины бренда", "other": "другие магазины"}
_GIVEN = {"purchases": "за покупки", "welcome": "приветственные", "referral": "за приглашения",
          "review": "за отзывы", "campaigns": "по кампаниям", "adjustments": "вручную", "imported": "перенесены",
          "other": "прочие"}
_SPENT = {"site": "на сайте", "rewards": "на награды"}


def report(program_path: Path, members_table: str, ledger_table: str, campaigns_table: str,
           since: datetime | None, until: datetime | None, as_json: bool, out: TextIO = sys.stdout) -> int:
    program = load_program(program_path)
    builder = ReportBuilder(program, since, until)
    for item in MembersRepository(members_table).everyone(_MEMBER_ATTRIBUTES):
        builder.member(item)
    for page in LedgerRepository(ledger_table, members_table).every_entry():
        builder.entries(page)
    figures = builder.report()
    store = CampaignStore(campaigns_table)
    names = [campaign.name for campaign in program.campaigns] + [nudge.name for nudge in program.bot.nudges]
    campaigns = {name: store.stats(name) for name in names}
    if as_json:
        print(json.dumps({**figures.model_dump(mode="json"), "cost_percent": figures.cost_percent,
                          "campaigns_all_time": campaigns}, ensure_ascii=False), file=out)
    else:
        print(render(program, figures, campaigns), file=out)
    return 0


def render(program: Program, r: ProgramReport, campaigns: dict[str, dict[str, int]]) -> str:
    """The report as a marketer reads it, in Russian."""
    period = f"{'с ' + _day(r.since) if r.since else 'с начала'} {'до ' + _day(r.until) if r.until else 'по сегодня'}"
    lines = [f"Программа «{program.brand.name}», {period}", "",
             f"Участники: {_n(r.members)} (с телефоном {_n(r.members_with_phone)}, получают сообщения "
             f"{_n(r.members_subscribed)}, удалили аккаунт {_n(r.members_erased)})"]
    if r.joined_in_period:
        sources = ", ".join(f"{source_title(program, via)} {_n(count)}" for via, count in r.joined_in_period.items())
        lines.append(f"  пришли за период: {_n(sum(r.joined_in_period.values()))} — {sources}")
    repeat = f" ({_percent(100 * r.repeat_buyers / r.buyers)})" if r.buyers else ""
    lines += ["", f"Покупки: {_n(r.receipts)} {receipts_word(r.receipts)}, {_n(r.buyers)} "
                  f"{_buyers(r.buyers)}, купили снова {_n(r.repeat_buyers)}{repeat}"]
    if r.by_channel:
        lines += [f"  товары бренда на {_rub(r.revenue_kopecks)}:",
                  f"    {'где куплено':<24} {'чеки':>7} {'покупатели':>11} {'выручка':>14} {'доля':>5}"]
    for name, channel in r.by_channel.items():
        title = program.channel_title(name, "ru") or _OWN_CHANNELS.get(name, name)
        share = _percent(100 * channel.revenue_kopecks / r.revenue_kopecks) if r.revenue_kopecks > 0 else "—"
        lines.append(f"    {title:<24} {_n(channel.receipts):>7} {_n(channel.buyers):>11} "
                     f"{_rub(channel.revenue_kopecks):>14} {share:>5}")
    lines.append(f"  купили на сайте после маркетплейса: {_n(r.moved_to_site)}")
    given = ", ".join(f"{_GIVEN.get(k, k)} {_n(v)}" for k, v in r.points_given.items()) or "—"
    spent = ", ".join(f"{_SPENT.get(k, k)} {_n(v)}" for k, v in r.points_spent.items()) or "—"
    lines += ["", f"Баллы: выдано {_n(sum(r.points_given.values()))} ({given}) — {_percent(r.cost_percent)} выручки",
              f"  потрачено {_n(sum(r.points_spent.values()))} ({spent}), сгорело {_n(r.points_expired)}, "
              f"забрано при возвратах {_n(r.points_taken_back)}, списано при удалении {_n(r.points_written_off)}",
              f"  на счетах сейчас {_n(r.liability_points)} {points_word(r.liability_points)}: обязательства "
              f"программы {_rub(r.liability_points * 100)}"]
    if campaigns:
        lines += ["", "Кампании и подсказки, за всё время:",
                  f"    {'':<38} {'доставлено':>10} {'купили':>7} {'выручка':>14} {'выдано':>7} {'потрачено':>9}"]
        for name, c in campaigns.items():
            lines.append(f"    {campaign_title(program, name):<38} {_n(c['delivered']):>10} {_n(c['converted']):>7} "
                         f"{_rub(c['revenue_kopecks']):>14} {_n(c['points_given']):>7} {_n(c['points_spent']):>9}")
    return "\n".join(lines)


_SOURCE_KINDS = {"pack": "QR-код на упаковке", "insert": "вкладыш", "shop": "магазин", "blogger": "блогер",
                 "ad": "реклама"}
_JOINED = {"organic": "сами нашли бота", "referral": "по приглашению друга", "import": "из прежней программы"}


def source_title(program: Program, via: str) -> str:
    """Where members came from, in the marketer's words: «вкладыш Wildberries (wb)», «по приглашению друга»."""
    if via in _JOINED:
        return _JOINED[via]
    kind, _, key = via.partition(":")
    if kind == "campaign":
        return f"кампания «{campaign_title(program, key)}»"
    source = program.bot.sources.get(key)
    where = program.channel_title(source.channel, "ru") if source and source.channel else None
    return " ".join(part for part in (_SOURCE_KINDS.get(kind, kind), where, f"({key})") if part)


def campaign_title(program: Program, name: str) -> str:
    """A campaign's or a nudge's title from the program (its name when it has none)."""
    campaign, nudge = program.campaign(name), program.bot.nudge(name)
    return (campaign.title if campaign else None) or (nudge.title if nudge else None) or name


def _percent(value: float) -> str:
    """15,2 % — as Russian writes a share: a decimal comma, a no-break space before the sign."""
    return f"{value:.1f}".replace(".", ",").removesuffix(",0") + "\u00a0%"


def _buyers(count: int) -> str:
    return plural(count, "покупатель", "покупателя", "покупателей")


def _n(number: int) -> str:
    return f"{number:,}".replace(",", "\u202f")  # a narrow no-break space between thousands, as Russian writes


def _rub(kopecks: int) -> str:
    return f"{_n(round(kopecks / 100))} ₽"


def _day(moment: datetime) -> str:
    return moment.astimezone(MOSCOW).strftime("%d.%m.%Y")
