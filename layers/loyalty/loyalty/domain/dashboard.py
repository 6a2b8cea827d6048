"""The dashboard: the program's figures for a period beside the period before it, as tables and charts in the
marketer's words (Russian, or English). The console draws it, `loyalty report` prints it, and either writes its
tables as CSV: all from here.
"""


import csv
import io
from collections.abc import Mapping
from datetime import date, timedelta
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, computed_field

from loyalty.domain.bot_program import words as in_words
from loyalty.domain.daily import GIVEN_KINDS, Tally
from loyalty.domain.figures import Figures, figures, previous, series, steps
from loyalty.domain.rfm import GROUPS

if TYPE_CHECKING:
    from loyalty.domain.program import Program

Unit = Literal["count", "rub", "percent", "points"]
Language = Literal["ru", "en"]


class Row(BaseModel):
    model_config = ConfigDict(defer_build=True)

    label: str
    now: float | None
    before: float | None
    unit: Unit = "count"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def delta(self) -> float | None:
        return None if self.now is None or self.before is None else round(self.now - self.before, 1)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def change_percent(self) -> float | None:
        if self.now is None or not self.before:
            return None
        return round(100 * (self.now - self.before) / abs(self.before), 1)


class Table(BaseModel):
    model_config = ConfigDict(defer_build=True)

    key: str
    title: str
    rows: list[Row]
    columns: tuple[str, str] | None = None  # what `now` and `before` are, when not this period and the one before


class Series(BaseModel):
    model_config = ConfigDict(defer_build=True)

    name: str
    values: list[float]


class Chart(BaseModel):
    model_config = ConfigDict(defer_build=True)

    key: str
    title: str
    kind: Literal["bar", "stacked", "line", "doughnut"]
    unit: Unit
    labels: list[str]
    series: list[Series]


class Dashboard(BaseModel):
    model_config = ConfigDict(defer_build=True)

    since: date
    until: date  # the day after the last
    previous_since: date
    period: str  # in words: «1–30 ноября 2026 против 2–31 октября 2026»
    language: Language = "ru"
    tables: list[Table]
    charts: list[Chart]

    def table(self, key: str) -> Table | None:
        return next((table for table in self.tables if table.key == key), None)


_WORDS: dict[str, tuple[str, str]] = {
    # tables
    "members": ("Участники", "Members"), "purchases": ("Покупки", "Purchases"), "points": ("Баллы", "Points"),
    "orders": ("Заказы, оплаченные баллами", "Orders paid with points"),
    "campaigns": ("Кампании и подсказки", "Campaigns and nudges"),
    "surveys": ("Оценки после покупки (CSAT, NPS)", "Post-purchase ratings (CSAT, NPS)"),
    "rfm": ("Группы RFM", "RFM groups"), "fraud": ("Проверка чеков", "Receipt checks"),
    "interests": ("Интересы участников (из профиля)", "Members' interests (from the profile)"),
    "chart_interests": ("Интересы участников", "Members' interests"),
    # rows
    "members_total": ("участников на конец периода", "members at the period's end"),
    "new": ("новых за период", "new in the period"), "new_from": ("пришли: {}", "came from: {}"),
    "penetration": ("прислали хотя бы один чек", "sent at least one receipt"),
    "receipts": ("чеков", "receipts"), "revenue": ("выручка с товаров бренда", "revenue from the brand's goods"),
    "receipts_in": ("чеки — {}", "receipts — {}"), "revenue_in": ("выручка — {}", "revenue — {}"),
    "buyers": ("покупателей", "buyers"), "repeat": ("купили в два дня и больше", "bought on two days or more"),
    "repeat_rate": ("доля повторных покупателей", "repeat-purchase rate"),
    "moved": ("впервые купили на сайте после маркетплейса", "first bought on the site after a marketplace"),
    "given": ("выдано баллов", "points given"), "given_as": ("выдано {}", "given {}"),
    "spent": ("потрачено баллов", "points spent"), "spent_on": ("потрачено {}", "spent {}"),
    "expired": ("сгорело", "expired"), "taken_back": ("забрано при возвратах", "taken back on refunds"),
    "written_off": ("списано при удалении аккаунтов", "written off with deleted accounts"),
    "owed": ("обязательства на конец периода", "liability at the period's end"),
    "cost": ("стоимость программы, % выручки", "the program's cost, % of revenue"),
    "orders_on": ("заказов {}", "orders {}"), "order_total_on": ("сумма заказов {}", "order totals {}"),
    "delivered": ("{}: доставлено", "{}: delivered"), "converted": ("{}: купили после", "{}: bought after"),
    "campaign_revenue": ("{}: выручка", "{}: revenue"),
    "csat_in": ("CSAT — {}", "CSAT — {}"), "answers_in": ("оценок — {}", "ratings — {}"),
    "nps_in": ("NPS — {}", "NPS — {}"), "nps_answers_in": ("ответов о рекомендации — {}", "NPS answers — {}"),
    "group_size": ("{} — участников", "{} — members"), "moves": ("из «{}» в «{}»", "from “{}” to “{}”"),
    "first_purchase": ("первая покупка", "first purchase"),
    "held": ("задержано правилами", "held by the rules"), "approved": ("одобрено", "approved"),
    "rejected": ("отклонено", "rejected"),
    # charts
    "chart_receipts": ("Чеки по каналам", "Receipts by channel"),
    "chart_revenue": ("Выручка по каналам, ₽", "Revenue by channel, ₽"),
    "chart_sources": ("Новые участники по источникам", "New members by source"),
    "chart_points": ("Баллы: выдано, потрачено, сгорело", "Points: given, spent, expired"),
    "chart_rfm": ("Группы RFM: начало и конец периода", "RFM groups: start and end of the period"),
    "start": ("начало", "start"), "end": ("конец", "end"),
    "end_column": ("на конец периода (перешли за период)", "at the period's end (moved in it)"),
    "start_column": ("на начало периода", "at the period's start"), "now": ("этот период", "this period"),
    "before": ("прошлый период", "the period before"),
}
_GIVEN = {"purchases": ("за покупки", "for purchases"), "welcome": ("приветственных", "welcome"),
          "referral": ("за приглашения", "for invitations"), "review": ("за отзывы", "for reviews"),
          "campaigns": ("по кампаниям", "by campaigns"), "adjustments": ("вручную", "by hand"),
          "imported": ("перенесено", "brought over"), "challenges": ("за задания", "for challenges"),
          "draw": ("колесом призов", "by the prize wheel"), "birthday": ("ко дню рождения", "birthday gifts"),
          "other": ("прочих", "other")}
_SPENT = {"site": ("на сайте", "on the site"), "rewards": ("на награды", "on rewards")}
_OWN_CHANNELS = {"d2c": ("сайт и магазины бренда", "the brand's site and stores"),
                 "other": ("другие магазины", "other stores")}
_SOURCE_KINDS = {"pack": ("QR-код на упаковке", "the QR code on the pack"), "insert": ("вкладыш", "an insert"),
                 "shop": ("магазин", "a store"), "blogger": ("блогер", "a blogger"), "ad": ("реклама", "an ad")}
_JOINED = {"organic": ("сами нашли бота", "found the bot themselves"),
           "referral": ("по приглашению друга", "invited by a friend"),
           "import": ("из прежней программы", "from the earlier program")}
_GROUPS = {"champions": ("чемпионы", "champions"), "loyal": ("постоянные", "loyal"), "new": ("новички", "new"),
           "promising": ("подающие надежды", "promising"), "at_risk": ("под угрозой ухода", "at risk"),
           "lost": ("ушедшие", "lost"), "-": ("первая покупка", "first purchase")}
_MONTHS = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
           "ноября", "декабря")


def dashboard(program: "Program", days: Mapping[date, Tally], since: date, until: date,
              language: Language = "ru") -> Dashboard:
    """The dashboard of [since, until) beside the period of the same length before it."""
    now, before = figures(days, since, until), figures(days, *previous(since, until))
    words = _Words(program, language)
    tables = [_members(now, before, words), _purchases(now, before, words), _points(now, before, words),
              _orders(now, before, words), _campaigns(now, before, words), _surveys(now, before, words),
              _rfm(now, words), *_interests(now, words), _fraud(now, before, words)]
    return Dashboard(since=since, until=until, previous_since=previous(since, until)[0],
                     period=period_words(since, until, language), language=language, tables=tables,
                     charts=_charts(days, now, before, words))


class _Words:
    """The marketer's words for the program's ids: channels, sources, campaigns, groups."""

    def __init__(self, program: "Program", language: Language):
        self.program, self.language = program, language
        self.index = 0 if language == "ru" else 1

    def __call__(self, key: str, *args: str) -> str:
        return _WORDS[key][self.index].format(*args)

    def of(self, table: Mapping[str, tuple[str, str]], key: str) -> str:
        return table[key][self.index] if key in table else key

    def channel(self, name: str) -> str:
        return self.program.channel_title(name, self.language) or self.of(_OWN_CHANNELS, name)

    def source(self, via: str) -> str:
        """Where members came from: «вкладыш Wildberries (wb)», «по приглашению друга»."""
        if via in _JOINED:
            return self.of(_JOINED, via)
        kind, _, key = via.partition(":")
        if kind == "campaign":
            return self.campaign(key)
        source = self.program.bot.sources.get(key)
        where = self.program.channel_title(source.channel, self.language) if source and source.channel else None
        return " ".join(part for part in (self.of(_SOURCE_KINDS, kind), where, f"({key})") if part)

    def campaign(self, name: str) -> str:
        return campaign_title(self.program, name)


def source_title(program: "Program", via: str, language: Language = "ru") -> str:
    """Where members came from, as the dashboard says it: «вкладыш Wildberries (wb)», «блогер (blog_anna)»."""
    return _Words(program, language).source(via)


def campaign_title(program: "Program", name: str) -> str:
    """A campaign's or a nudge's title from the program (its name when it has none)."""
    campaign, nudge = program.campaign(name), program.bot.nudge(name)
    return (campaign.title if campaign else None) or (nudge.title if nudge else None) or name


def _members(now: Figures, before: Figures, w: _Words) -> Table:
    rows = [Row(label=w("members_total"), now=now.members, before=before.members),
            Row(label=w("new"), now=now.new_members, before=before.new_members)]
    rows += [Row(label=w("new_from", w.source(via)), now=now.joined.get(via, 0), before=before.joined.get(via, 0))
             for via in _keys(now.joined, before.joined)]
    rows.append(Row(label=w("penetration"), now=now.penetration_percent, before=before.penetration_percent,
                    unit="percent"))
    return Table(key="members", title=w("members"), rows=rows)


def _purchases(now: Figures, before: Figures, w: _Words) -> Table:
    rows = [Row(label=w("receipts"), now=now.all_receipts, before=before.all_receipts),
            Row(label=w("revenue"), now=_rub(now.all_revenue_kopecks), before=_rub(before.all_revenue_kopecks),
                unit="rub")]
    for channel in _keys(now.revenue_kopecks, before.revenue_kopecks, now.receipts, before.receipts):
        rows += [Row(label=w("receipts_in", w.channel(channel)), now=now.receipts.get(channel, 0),
                     before=before.receipts.get(channel, 0)),
                 Row(label=w("revenue_in", w.channel(channel)), now=_rub(now.revenue_kopecks.get(channel, 0)),
                     before=_rub(before.revenue_kopecks.get(channel, 0)), unit="rub")]
    rows += [Row(label=w("buyers"), now=now.buyers, before=before.buyers),
             Row(label=w("repeat"), now=now.repeat_buyers, before=before.repeat_buyers),
             Row(label=w("repeat_rate"), now=now.repeat_percent, before=before.repeat_percent, unit="percent"),
             Row(label=w("moved"), now=now.moved_to_site, before=before.moved_to_site)]
    return Table(key="purchases", title=w("purchases"), rows=rows)


def _points(now: Figures, before: Figures, w: _Words) -> Table:
    rows = [Row(label=w("given"), now=now.all_given, before=before.all_given, unit="points")]
    rows += [Row(label=w("given_as", w.of(_GIVEN, kind)), now=now.given.get(kind, 0), before=before.given.get(kind, 0),
                 unit="points") for kind in GIVEN_KINDS if kind in now.given or kind in before.given]
    rows.append(Row(label=w("spent"), now=now.all_spent, before=before.all_spent, unit="points"))
    rows += [Row(label=w("spent_on", w.of(_SPENT, where)), now=now.spent.get(where, 0),
                 before=before.spent.get(where, 0), unit="points") for where in _keys(now.spent, before.spent)]
    rows += [Row(label=w("expired"), now=now.expired, before=before.expired, unit="points"),
             Row(label=w("taken_back"), now=now.taken_back, before=before.taken_back, unit="points"),
             Row(label=w("written_off"), now=now.written_off, before=before.written_off, unit="points"),
             Row(label=w("owed"), now=now.owed_points, before=before.owed_points, unit="rub"),
             Row(label=w("cost"), now=now.cost_percent, before=before.cost_percent, unit="percent")]
    return Table(key="points", title=w("points"), rows=rows)


def _orders(now: Figures, before: Figures, w: _Words) -> Table:
    rows = []
    for where in ("site", "rewards"):
        rows += [Row(label=w("orders_on", w.of(_SPENT, where)), now=now.orders.get(where, 0),
                     before=before.orders.get(where, 0)),
                 Row(label=w("order_total_on", w.of(_SPENT, where)), now=_rub(now.order_kopecks.get(where, 0)),
                     before=_rub(before.order_kopecks.get(where, 0)), unit="rub")]
    return Table(key="orders", title=w("orders"), rows=rows)


def _campaigns(now: Figures, before: Figures, w: _Words) -> Table:
    rows = []
    empty = {"delivered": 0, "converted": 0, "revenue": 0}
    for name in _keys(now.campaigns, before.campaigns):
        a, b, title = now.campaigns.get(name, empty), before.campaigns.get(name, empty), w.campaign(name)
        rows += [Row(label=w("delivered", title), now=a["delivered"], before=b["delivered"]),
                 Row(label=w("converted", title), now=a["converted"], before=b["converted"]),
                 Row(label=w("campaign_revenue", title), now=_rub(a["revenue"]), before=_rub(b["revenue"]), unit="rub")]
    return Table(key="campaigns", title=w("campaigns"), rows=rows)


def _surveys(now: Figures, before: Figures, w: _Words) -> Table:
    rows = []
    for rated_now, rated_before, name in ((now.rated, before.rated, w.channel),
                                          (now.rated_goods, before.rated_goods, str)):
        for key in _keys(rated_now, rated_before):
            a, b = rated_now.get(key), rated_before.get(key)
            rows += [Row(label=w("csat_in", name(key)), now=a.csat_percent if a else None,
                         before=b.csat_percent if b else None, unit="percent"),
                     Row(label=w("answers_in", name(key)), now=a.answers if a else 0, before=b.answers if b else 0)]
    for channel in _keys(now.recommended, before.recommended):
        said, said_before = now.recommended.get(channel), before.recommended.get(channel)
        rows += [Row(label=w("nps_in", w.channel(channel)), now=said.nps if said else None,
                     before=said_before.nps if said_before else None, unit="percent"),
                 Row(label=w("nps_answers_in", w.channel(channel)), now=said.answers if said else 0,
                     before=said_before.answers if said_before else 0)]
    return Table(key="surveys", title=w("surveys"), rows=rows)


def _rfm(now: Figures, w: _Words) -> Table:
    """Each group at the period's start (the column of the period before) and end, then the moves in it."""
    rows = [Row(label=w("group_size", w.of(_GROUPS, g)), now=now.rfm_end.get(g, 0), before=now.rfm_start.get(g, 0))
            for g in GROUPS if g in now.rfm_end or g in now.rfm_start]
    rows += [Row(label=w("moves", *(w.of(_GROUPS, g) for g in move.split(":"))), now=count, before=None)
             for move, count in now.rfm_moves.items() if count]
    return Table(key="rfm", title=w("rfm"), rows=rows, columns=(w("end_column"), w("start_column")))


def _interests(now: Figures, w: _Words) -> list[Table]:
    """How many members chose each option of the profile's interests, at the period's end and start (none: no table,
    where the program asks none)."""
    options = _interest_options(w)
    if not options:
        return []
    rows = [Row(label=label, now=now.interests_end.get(key, 0), before=now.interests_start.get(key, 0))
            for key, label in options]
    return [Table(key="interests", title=w("interests"), rows=rows, columns=(w("end_column"), w("start_column")))]


def _interest_options(w: _Words) -> list[tuple[str, str]]:
    """("skin_type:dry", «Тип кожи: сухая») for each option the program's profile asks, in its order."""
    return [(f"{interest.id}:{option.id}",
             f"{in_words(interest.title, w.language)}: {in_words(option.title, w.language)}")
            for interest in w.program.profile.interests for option in interest.options]


def _fraud(now: Figures, before: Figures, w: _Words) -> Table:
    return Table(key="fraud", title=w("fraud"), rows=[
        Row(label=w(key), now=now.fraud.get(key, 0), before=before.fraud.get(key, 0))
        for key in ("held", "approved", "rejected")])


def _charts(days: Mapping[date, Tally], now: Figures, before: Figures, w: _Words) -> list[Chart]:
    labels = [_day_words(start, w.language) for start, _ in steps(now.since, now.until)]
    charts = []
    flows: tuple[tuple[str, str, Unit, int], ...] = (("receipts", "receipts:", "count", 1),
                                                     ("revenue", "revenue:", "rub", 100))
    for key, prefix, unit, scale in flows:
        by_step = series(days, now.since, now.until, prefix)
        charts.append(Chart(key=key, title=w(f"chart_{key}"), kind="stacked", unit=unit, labels=labels, series=[
            Series(name=w.channel(c), values=[v.get(c, 0) / scale for _, v in by_step])
            for c in _keys(*(values for _, values in by_step))]))
    sources = _keys(now.joined)
    charts.append(Chart(key="sources", title=w("chart_sources"), kind="doughnut", unit="count",
                        labels=[w.source(s) for s in sources], series=[Series(name=w("now"), values=[
                            now.joined[s] for s in sources])]))
    charts.append(Chart(key="points", title=w("chart_points"), kind="bar", unit="points",
                        labels=[w("given"), w("spent"), w("expired")],
                        series=[Series(name=w(which), values=[f.all_given, f.all_spent, f.expired])
                                for which, f in (("before", before), ("now", now))]))
    groups = [g for g in GROUPS if g in now.rfm_end or g in now.rfm_start]
    charts.append(Chart(key="rfm", title=w("chart_rfm"), kind="bar", unit="count",
                        labels=[w.of(_GROUPS, g) for g in groups],
                        series=[Series(name=w(which), values=[sizes.get(g, 0) for g in groups])
                                for which, sizes in (("start", now.rfm_start), ("end", now.rfm_end))]))
    options = _interest_options(w)
    if options:
        charts.append(Chart(key="interests", title=w("chart_interests"), kind="bar", unit="count",
                            labels=[label for _, label in options],
                            series=[Series(name=w("end"),
                                           values=[now.interests_end.get(key, 0) for key, _ in options])]))
    return charts


def csv_text(board: Dashboard, key: str | None = None) -> str:
    """A table (or all of them) as CSV: what Excel opens, with the marketer's column names."""
    out = io.StringIO()
    writer = csv.writer(out)
    section, figure, change = _CSV_HEAD[board.language]
    writer.writerow([section, figure, f"{_iso(board.since)}…{_iso(board.until - timedelta(days=1))}",
                     f"{_iso(board.previous_since)}…{_iso(board.since - timedelta(days=1))}", change, f"{change}, %"])
    for table in board.tables:
        if key is None or table.key == key:
            for row in table.rows:
                writer.writerow([table.title, row.label, _plain(row.now), _plain(row.before), _plain(row.delta),
                                 _plain(row.change_percent)])
    return out.getvalue()


_CSV_HEAD = {"ru": ("Раздел", "Показатель", "Изменение"), "en": ("Section", "Figure", "Change")}


def period_words(since: date, until: date, language: Language = "ru") -> str:
    last = until - timedelta(days=1)
    before_since, before_last = previous(since, until)[0], since - timedelta(days=1)
    joiner = "против" if language == "ru" else "against"
    return f"{_span(since, last, language)} {joiner} {_span(before_since, before_last, language)}"


def _span(first: date, last: date, language: Language) -> str:
    if language == "en":
        return f"{first.isoformat()} – {last.isoformat()}"
    if first == last:
        return _day_words(first, language, year=True)
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{last.day} {_MONTHS[last.month - 1]} {last.year}"
    return f"{_day_words(first, language, year=True)} – {_day_words(last, language, year=True)}"


def _day_words(day: date, language: Language, year: bool = False) -> str:
    if language == "en":
        return day.isoformat() if year else day.strftime("%d %b")
    return f"{day.day} {_MONTHS[day.month - 1]}" + (f" {day.year}" if year else "")


def _keys(*tables: Mapping[str, object]) -> list[str]:
    """The keys of several tables, in the order they first appear (the largest first in figures)."""
    return list(dict.fromkeys(key for table in tables for key in table))


def _rub(kopecks: int) -> float:
    return round(kopecks / 100, 2)


def _iso(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def _plain(value: float | None) -> str:
    """A number as a spreadsheet takes it: no thousands separator, a whole number without its .0."""
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)

