"""The program's figures from daily tallies, each checked against an answer worked out by hand from the books
below; and the books read by a scan in any order tally the same."""

import random
import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

from loyalty.adapters.program_file import load_program
from loyalty.domain.daily import Books, changed, member_tally
from loyalty.domain.details import Details
from loyalty.domain.figures import figures, previous, series, steps
from loyalty.domain.ledger import Entry, Kind
from loyalty.domain.wallet import Balance
from tests.conftest import ROOT

PROGRAM = load_program(ROOT / "program" / "program.yaml")
DAY = datetime(2026, 11, 10, 12, tzinfo=UTC)  # 15:00 in Moscow, the 10th
SINCE, UNTIL = date(2026, 11, 8), date(2026, 11, 30)


def entry(member: str, entry_id: str, kind: str, points: int, at: datetime = DAY, **details: Any) -> Entry:
    return Entry(member_id=member, entry_id=entry_id, kind=kind, points=points, change=Balance(available=points),
                 balance_after=Balance(), created_at=at, details=Details(**details))


def purchase(member: str, key: str, channel: str, rubles: int, points: int, at: datetime = DAY,
             **details: Any) -> Entry:
    return entry(member, f"receipt#{key}", Kind.ACCRUAL, points, at, channel=channel,
                 brand_sum_kopecks=rubles * 100, purchased_at=at - timedelta(hours=1), **details)


BOOKS = [
    entry("anna", "bonus#welcome", Kind.BONUS, 100),
    purchase("anna", "1", "wildberries", 450, 45),
    purchase("anna", "2", "d2c", 1290, 155, at=DAY + timedelta(days=3)),  # the site, after a marketplace
    entry("anna", "refund#2", Kind.REFUND, -77, DAY + timedelta(days=4), channel="d2c", brand_sum_kopecks=64_500),
    entry("anna", "commit#reward:X", Kind.COMMIT, 0, spent=300, reward="samples"),
    entry("anna", "commit#promo:Y", Kind.COMMIT, 0, spent=50, order_kopecks=250_000),
    entry("boris", "bonus#welcome", Kind.BONUS, 100),
    purchase("boris", "3", "d2c", 1000, 100),  # the site first, then a marketplace: not "moved"
    purchase("boris", "4", "ozon", 500, 50, at=DAY + timedelta(days=1)),
    purchase("boris", "4b", "ozon", 200, 20, at=DAY + timedelta(days=1, hours=2)),  # the same day again
    entry("boris", "campaign#winback:1:x", Kind.BONUS, 150),
    entry("boris", "bonus#review:R1", Kind.BONUS, 100),
    entry("boris", "expire#receipt#3", Kind.EXPIRY, -20),
    entry("vera", "erase#account", Kind.FORFEIT, -90),
    purchase("gala", "5", "wildberries", 300, 30, at=DAY - timedelta(days=30)),  # before the period
]
MEMBERS: list[dict[str, Any]] = [
    {"member_id": "anna", "joined_at": "2026-11-09T10:00:00.000+00:00", "joined_via": "insert:wb"},
    {"member_id": "boris", "joined_at": "2026-11-09T11:00:00.000+00:00", "referred_by": "anna"},
    {"member_id": "erased-1", "joined_at": "2026-11-01T10:00:00.000+00:00", "erased_at": "2026-11-20T10:00:00+00:00"},
    {"member_id": "gala", "joined_at": "2026-10-01T10:00:00.000+00:00", "joined_via": "import"},
]


def tallies(books: list[Entry] = BOOKS, members: list[dict[str, Any]] = MEMBERS) -> dict[date, Counter[str]]:
    scan = Books(PROGRAM)
    for item in members:
        scan.member(item)
    scan.entries(books)
    return scan.tallies()


def test_each_figure_is_what_the_books_say_worked_out_by_hand() -> None:
    f = figures(tallies(), SINCE, UNTIL)
    assert (f.members, f.joined_ever, f.joined) == (3, 4, {"insert:wb": 1, "referral": 1})  # erased-1 is gone
    assert (f.buyers_ever, f.penetration_percent) == (3, 75.0)  # anna, boris, gala of the four who joined
    assert f.receipts == {"d2c": 2, "ozon": 2, "wildberries": 1}
    assert f.revenue_kopecks == {"d2c": 129_000 + 100_000 - 64_500, "ozon": 70_000, "wildberries": 45_000}
    # anna bought on the 10th and 13th, boris on the 10th and (twice) the 11th: two buyers, both again
    assert (f.buyers, f.repeat_buyers, f.repeat_percent) == (2, 2, 100.0)
    assert f.moved_to_site == 1  # anna; boris bought on the site before the marketplace
    assert f.given == {"purchases": 45 + 155 + 100 + 50 + 20, "welcome": 200, "campaigns": 150, "review": 100}
    assert (f.taken_back, f.expired, f.written_off) == (77, 20, 90)
    assert f.spent == {"rewards": 300, "site": 50}
    assert f.orders == {"rewards": 1, "site": 1}
    assert f.order_kopecks == {"site": 250_000, "rewards": 30_000}  # a reward is paid in points alone
    assert f.owed_points == 100 + 45 + 155 - 77 + 100 + 100 + 50 + 20 + 150 + 100 - 20 - 90 + 30
    assert f.cost_percent == round(100 * (820 - 77) / 2_795, 1)  # net of the refund, per rouble


def test_a_period_counts_only_what_happened_in_it_and_stocks_run_to_its_end() -> None:
    later = figures(tallies(), date(2026, 11, 12), UNTIL)
    assert (later.receipts, later.revenue_kopecks) == ({"d2c": 1}, {"d2c": 129_000 - 64_500})
    assert (later.buyers, later.repeat_buyers, later.moved_to_site) == (1, 0, 1)  # anna, back; on the site now
    assert later.joined == {} and later.owed_points == figures(tallies(), SINCE, UNTIL).owed_points
    early = figures(tallies(), SINCE, date(2026, 11, 11))  # up to the 10th: anna's refund has not happened
    assert (early.buyers, early.repeat_buyers, early.members, early.buyers_ever) == (2, 0, 4, 3)
    assert early.owed_points == 100 + 45 + 100 + 100 + 150 + 100 - 20 - 90 + 30


def test_the_previous_period_is_as_long_and_ends_where_this_one_starts() -> None:
    before = figures(tallies(), *previous(SINCE, UNTIL))
    assert (before.since, before.until) == (date(2026, 10, 17), SINCE)
    assert before.joined == {"organic": 1} and before.receipts == {}  # erased-1 joined on 1 November
    assert (before.members, before.buyers_ever, before.owed_points) == (2, 1, 30)


def test_fraud_holds_and_decisions_are_counted() -> None:
    books = [purchase("dima", "6", "wildberries", 900, 90, held_by=["till"]),
             entry("dima", "held#6", Kind.HELD_DECISION, -90, DAY + timedelta(days=1), approved=False,
                   channel="wildberries", brand_sum_kopecks=90_000),
             purchase("dima", "7", "wildberries", 100, 10, held_by=["till"]),
             entry("dima", "held#7", Kind.HELD_DECISION, 0, DAY + timedelta(days=1), approved=True),
             entry("dima", "later#8", Kind.HELD_LATER, 0)]
    f = figures(tallies(books, []), SINCE, UNTIL)
    assert f.fraud == {"held": 3, "approved": 1, "rejected": 1}
    assert (f.revenue_kopecks, f.taken_back) == ({"wildberries": 10_000}, 90)


def test_the_order_a_scan_reads_the_books_in_changes_nothing() -> None:
    shuffled, members = BOOKS[:], MEMBERS[:]
    random.Random(7).shuffle(shuffled)
    random.Random(8).shuffle(members)
    assert tallies(shuffled, members) == tallies()


def test_a_changed_member_item_tallies_the_difference() -> None:
    joined = {"member_id": "m", "joined_at": "2026-11-09T10:00:00+00:00", "joined_via": "insert:wb"}
    erased = {**joined, "erased_at": "2026-11-20T10:00:00+00:00"}
    assert changed(member_tally(joined), member_tally(erased)) == {date(2026, 11, 20): Counter(erased=1)}
    assert changed(member_tally(erased), {}) == {date(2026, 11, 9): Counter({"joined:insert:wb": -1}),
                                                   date(2026, 11, 20): Counter(erased=-1)}
    assert changed(member_tally(joined), member_tally({**joined, "subscribed": False})) == {}


def test_a_chart_goes_by_day_up_to_two_months_and_by_week_beyond() -> None:
    assert len(steps(SINCE, UNTIL)) == 22
    weeks = steps(date(2026, 1, 1), date(2026, 12, 1))  # 1 January 2026 was a Thursday
    assert weeks[0] == (date(2026, 1, 1), date(2026, 1, 5)) and weeks[1] == (date(2026, 1, 5), date(2026, 1, 12))
    assert weeks[-1][1] == date(2026, 12, 1) and all(a < b for a, b in weeks)
    by_day = dict(series(tallies(), SINCE, UNTIL, "receipts:"))
    assert by_day[date(2026, 11, 10)] == {"d2c": 1, "wildberries": 1} and by_day[date(2026, 11, 11)] == {"ozon": 2}
    by_week = dict(series(tallies(), date(2026, 8, 1), UNTIL, "revenue:"))
    assert by_week[date(2026, 11, 9)] == {"d2c": 164_500, "ozon": 70_000, "wildberries": 45_000}


def test_a_member_who_bought_on_three_days_is_one_buyer_and_one_repeat_buyer() -> None:
    books = [purchase("ivan", str(n), "ozon", 100, 10, at=DAY + timedelta(days=n)) for n in range(3)]
    f = figures(tallies(books, []), SINCE, UNTIL)
    assert (f.buyers, f.repeat_buyers, f.buyers_ever) == (1, 1, 1)
    after_first = figures(tallies(books, []), date(2026, 11, 11), UNTIL)  # he had bought before this period
    assert (after_first.buyers, after_first.repeat_buyers, after_first.buyers_ever) == (1, 1, 1)
    last_day = figures(tallies(books, []), date(2026, 11, 12), UNTIL)
    assert (last_day.buyers, last_day.repeat_buyers) == (1, 0)


def test_rfm_groups_follow_purchases_and_time_and_a_later_purchase_cancels_the_moves_it_prevents() -> None:
    once = [purchase("olga", "1", "ozon", 1000, 100)]  # the 10th of November
    twice = [*once, purchase("olga", "2", "ozon", 2000, 200, at=datetime(2026, 12, 20, 9, tzinfo=UTC))]
    november = figures(tallies(once, []), SINCE, UNTIL)
    assert (november.rfm_start, november.rfm_end, november.rfm_moves) == ({}, {"new": 1}, {"-:new": 1})
    december = figures(tallies(once, []), date(2026, 12, 1), date(2027, 1, 1))  # 31 days since: no longer new
    assert (december.rfm_start, december.rfm_end, december.rfm_moves) == (
        {"new": 1}, {"promising": 1}, {"new:promising": 1})
    assert figures(tallies(once, []), date(2027, 2, 1), date(2027, 3, 1)).rfm_moves == {"promising:lost": 1}
    again = figures(tallies(twice, []), date(2026, 12, 1), date(2027, 1, 1))
    assert again.rfm_moves == {"new:promising": 1, "promising:loyal": 1} and again.rfm_end == {"loyal": 1}
    next_year = figures(tallies(twice, []), date(2027, 1, 1), date(2028, 1, 1))
    # 91 days after the 20th of December she is at risk; once November 2026 is a year old, one purchase is left
    assert next_year.rfm_moves == {"loyal:at_risk": 1, "at_risk:lost": 1} and next_year.rfm_end == {"lost": 1}
    assert sum(figures(tallies(twice, []), date(2026, 1, 1), date(2029, 1, 1)).rfm_end.values()) == 1


def test_on_generated_books_the_figures_equal_counting_each_member_directly() -> None:
    """Distinct buyers, repeat buyers, first buyers and RFM groups are sums of day tallies: on random books, for
    random periods, they equal what counting member by member gives."""
    from loyalty.domain.daily import day_of
    from loyalty.domain.rfm import group

    rng = random.Random(2026)
    start = datetime(2025, 1, 1, 9, tzinfo=UTC)
    books = [purchase(f"m{m}", f"{m}-{n}", rng.choice(["ozon", "d2c", "wildberries"]), rng.randint(1, 9000), 1,
                      at=start + timedelta(days=rng.randint(0, 700), hours=rng.randint(0, 12)))
             for m in range(40) for n in range(rng.randint(1, 8))]
    days = tallies(books, [])
    for _ in range(25):
        since = date(2025, 1, 1) + timedelta(days=rng.randint(0, 700))
        until = since + timedelta(days=rng.randint(1, 200))
        f = figures(days, since, until)
        by_member: dict[str, list[Entry]] = {}
        for e in books:
            by_member.setdefault(e.member_id, []).append(e)
        in_period = {m: {day_of(e.created_at) for e in es if since <= day_of(e.created_at) < until}
                     for m, es in by_member.items()}
        assert f.buyers == sum(1 for d in in_period.values() if d)
        assert f.repeat_buyers == sum(1 for d in in_period.values() if len(d) >= 2)
        assert f.buyers_ever == sum(1 for es in by_member.values() if any(day_of(e.created_at) < until for e in es))
        last = until - timedelta(days=1)
        groups = Counter(group([(day_of(e.created_at), e.details.brand_sum_kopecks) for e in es], last)
                         for es in by_member.values() if any(day_of(e.created_at) <= last for e in es))
        assert f.rfm_end == dict(groups)


def test_campaign_touches_and_survey_answers_count_on_the_day_they_happened() -> None:
    from loyalty.domain.daily import fold, rating_tally, touch_tally

    queued = {"campaign": "winback", "key": "touch#m1#1", "status": "queued", "queued_at": "2026-11-10T09:00:00+00:00"}
    delivered = {**queued, "status": "delivered", "delivered_at": "2026-11-10T09:01:00+00:00"}
    converted = {**delivered, "converted_at": "2026-11-12T15:00:00+00:00", "revenue_kopecks": 129_000}
    other = {"campaign": "to_site", "key": "touch#m2#1", "status": "blocked",
             "delivered_at": "2026-11-10T09:01:00+00:00"}  # the member had blocked the bot: not delivered
    survey = {"pk": "followup#f1", "channel": "ozon", "goods": ["Крем", "Маска", "Крем"], "rating": 2,
              "rated_at": "2026-11-11T08:00:00+00:00"}
    days: dict[date, Counter[str]] = {}
    for before, after in ((None, queued), (queued, delivered), (delivered, converted), (None, other),
                          (None, {**survey, "rating": None}), ({**survey, "rating": None}, survey),
                          (None, {**survey, "pk": "followup#f2", "rating": 5, "channel": "d2c"})):
        for tally_of in (touch_tally, rating_tally):
            for day, tally in changed(tally_of(before), tally_of(after)).items():
                fold(days, day, tally)
    f = figures(days, SINCE, UNTIL)
    assert f.campaigns == {"winback": {"delivered": 1, "converted": 1, "revenue": 129_000}}
    assert {k: (v.answers, v.csat_percent) for k, v in f.rated.items()} == {"ozon": (1, 0.0), "d2c": (1, 100.0)}
    assert {k: (v.answers, v.satisfied) for k, v in f.rated_goods.items()} == {"Крем": (2, 1), "Маска": (2, 1)}
    renamed = changed(touch_tally(converted), touch_tally({**converted, "key": "touch#pseudonym#1"}))
    assert renamed == {}  # an erased member's deliveries move to a pseudonym: the figures stay as they were


def test_the_dashboard_puts_each_figure_beside_the_period_before_in_the_marketers_words() -> None:
    import csv
    import io

    from loyalty.domain.dashboard import csv_text, dashboard

    board = dashboard(PROGRAM, tallies(), SINCE, UNTIL)
    assert board.period == "8–29 ноября 2026 против 17 октября 2026 – 7 ноября 2026"
    members = {row.label: row for row in board.table("members").rows}  # type: ignore[union-attr]
    total = members["участников на конец периода"]
    assert (total.now, total.before, total.delta, total.change_percent) == (3, 2, 1, 50.0)
    assert members["пришли: вкладыш Wildberries (wb)"].now == 1
    assert members["пришли: сами нашли бота"].before == 1  # erased-1, in the period before
    purchases = {row.label: row for row in board.table("purchases").rows}  # type: ignore[union-attr]
    assert purchases["выручка — сайт и магазины бренда"].now == 1645.0
    assert purchases["выручка с товаров бренда"].unit == "rub"
    assert purchases["доля повторных покупателей"].now == 100.0
    assert purchases["доля повторных покупателей"].before is None  # nobody bought then: no share, not 0 %
    orders = {row.label: row.now for row in board.table("orders").rows}  # type: ignore[union-attr]
    assert orders == {"заказов на сайте": 1, "сумма заказов на сайте": 2500.0, "заказов на награды": 1,
                      "сумма заказов на награды": 300.0}
    revenue = next(chart for chart in board.charts if chart.key == "revenue")
    assert len(revenue.labels) == 22 and revenue.labels[2] == "10 ноября"
    assert {s.name: s.values[2] for s in revenue.series} == {"Wildberries": 450.0, "сайт и магазины бренда": 1000.0,
                                                             "Ozon": 0.0}
    rows = list(csv.reader(io.StringIO(csv_text(board, "points"))))
    assert rows[0] == ["Раздел", "Показатель", "08.11.2026…29.11.2026", "17.10.2026…07.11.2026", "Изменение",
                       "Изменение, %"]
    assert ["Баллы", "выдано баллов", "820", "0", "820", ""] in rows  # no percent change from nothing
    english = dashboard(PROGRAM, tallies(), SINCE, UNTIL, "en")
    assert english.table("points").title == "Points" and "Раздел" not in csv_text(english)  # type: ignore[union-attr]
    assert not [row.label for table in board.tables for row in table.rows
                if re.search(r"_|\w:\w", row.label)]  # no ids in a marketer's table (insert:wb, at_risk)


def test_the_entries_the_figures_stream_passes_over_count_nothing() -> None:
    """template.yaml's filter keeps these kinds from the figures function: they move points between a member's own
    balances (or none at all), so they must tally to nothing, or the stream's figures would differ from a scan's."""
    from loyalty.domain.daily import entry_days

    moves = {Kind.HOLD: Balance(available=-40, held=40), Kind.ACTIVATION: Balance(pending=-45, available=45),
             Kind.REMINDER: Balance(), Kind.LEVEL_REVIEW: Balance()}
    template = (ROOT / "template.yaml").read_text(encoding="utf-8")
    for kind, change in moves.items():
        moved = Entry(member_id="m", entry_id=f"{kind}#1", kind=kind, points=change.points, change=change,
                      balance_after=Balance(), created_at=DAY)
        assert entry_days(PROGRAM, moved) == {}, kind
        assert f'"{kind.value}"' in template  # the filter names it


def test_nps_where_the_program_asks_it_is_promoters_less_detractors_by_channel() -> None:
    from loyalty.domain.daily import fold, rating_tally

    days: dict[date, Counter[str]] = {}
    for n, score in enumerate((10, 9, 8, 6, 0)):  # two promoters, one passive, two detractors
        for day, tally in rating_tally({"pk": f"followup#f{n}", "channel": "ozon", "rating": 5, "nps": score,
                                        "rated_at": "2026-11-11T08:00:00+00:00",
                                        "nps_at": "2026-11-11T08:01:00+00:00"}).items():
            fold(days, day, tally)
    f = figures(days, SINCE, UNTIL)
    assert (f.recommended["ozon"].answers, f.recommended["ozon"].nps) == (5, 0.0)
    days[date(2026, 11, 12)] = Counter({"nps:ozon:10": 5})
    assert figures(days, SINCE, UNTIL).recommended["ozon"].nps == 50.0  # (7 − 2) of 10
    from loyalty.domain.dashboard import dashboard

    rows = {row.label: row.now for row in dashboard(PROGRAM, days, SINCE, UNTIL).table("surveys").rows}  # type: ignore[union-attr]
    assert rows["NPS — Ozon"] == 50.0 and rows["ответов о рекомендации — Ozon"] == 10
