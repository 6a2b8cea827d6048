"""Segments and campaigns as the program file writes them: what a segment matches, which ladder step a
member is on, and a bad one refused at load with its key named (no I/O)."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from loyalty.adapters.program_file import ProgramError, load_program
from loyalty.domain.campaigns import (
    Campaign,
    Message,
    Step,
    Touch,
    entered,
    held_out,
    lapse_window,
    winback_touch,
)
from loyalty.domain.facts import Facts, Good
from loyalty.domain.segments import Member, Segment
from loyalty.flows.campaigns import written
from tests.conftest import ROOT, present

SEED = load_program(ROOT / "program" / "program.yaml")
NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
WINBACK = present(SEED.campaign("winback"))


def buyer(receipts: int, average_roubles: int, last_days_ago: int = 3, **member: Any) -> Member:
    facts = Facts(receipts=receipts, spend_kopecks=receipts * average_roubles * 100,
                  first_purchase_at=NOW - timedelta(days=400), last_purchase_at=NOW - timedelta(days=last_days_ago),
                  last_channel="ozon", categories=("face",))
    return Member(facts=facts, **member)


@pytest.mark.parametrize(("receipts", "average", "subscribed", "matches"), [
    (6, 1100, True, True), (6, 1000, True, True), (6, 1200, True, True),
    (5, 1100, True, False), (6, 1201, True, False), (9, 999, True, False), (6, 1100, False, False)])
def test_the_shipped_example_more_than_5_purchases_and_an_average_of_1000_to_1200(
        receipts: int, average: int, subscribed: bool, matches: bool) -> None:
    segment = SEED.segments["regulars_mid_basket"]
    assert segment.matches(buyer(receipts, average, subscribed=subscribed), NOW) is matches


def test_all_any_and_not_combine_conditions_over_facts_level_balance_and_expiring_points() -> None:
    segment = Segment.model_validate({"any": [
        {"level": {"in": ["insider"]}},
        {"all": [{"balance": {"at_least": 500}}, {"points_expiring": {"within_days": 14, "at_least": 100}}]},
    ], "not": {"last_channel": {"in": ["wildberries"]}}, "bought_category": {"in": ["face", "care"]},
        "days_since_last_purchase": {"at_least": 30}})
    soon = ((NOW + timedelta(days=10), 120),)
    assert segment.matches(buyer(2, 500, last_days_ago=31, level="insider"), NOW)
    assert segment.matches(buyer(2, 500, last_days_ago=31, balance=600, expiring=soon), NOW)
    assert not segment.matches(buyer(2, 500, last_days_ago=31, balance=600, expiring=((NOW + timedelta(days=20),
                                                                                        120),)), NOW)
    assert not segment.matches(buyer(2, 500, last_days_ago=29, level="insider"), NOW)
    assert not segment.matches(Member(level="insider"), NOW)  # never bought: no days since a purchase


def test_a_channel_count_and_how_the_member_joined_are_conditions_too() -> None:
    facts = Facts(receipts=3, by_channel={"ozon": {"receipts": 2, "spend_kopecks": 1}})
    segment = Segment.model_validate({"receipts_in_channel": {"channel": "ozon", "at_least": 2},
                                      "source": {"in": ["referral"]}})
    assert segment.matches(Member(facts=facts, source="referral"), NOW)
    assert not segment.matches(Member(facts=facts), NOW)


def test_the_ladder_sends_the_step_the_lapse_has_reached_once_per_lapse() -> None:
    facts = buyer(3, 800, last_days_ago=0).facts  # the lapse began with a purchase today

    def maybe(days: int, lapse: Facts = facts) -> Touch | None:
        return winback_touch(WINBACK, "1", lapse, NOW + timedelta(days=days))

    def touch(days: int, lapse: Facts = facts) -> Touch:
        return present(maybe(days, lapse))

    assert maybe(29) is None
    assert (touch(30).step, touch(59).step, touch(60).step, touch(200).step) == (0, 0, 1, 2)
    assert touch(30).key == touch(45).key != touch(60).key  # one key per (step, lapse): a repeat sends nothing
    later = facts.purchased(NOW + timedelta(days=40), "ozon", 100, ())  # a purchase ends the lapse ...
    assert maybe(60, later) is None and touch(70, later).key != touch(30).key  # ... and the next is another
    assert winback_touch(WINBACK, "1", Facts(), NOW) is None  # never bought: no lapse


def test_a_run_selects_the_purchases_whose_lapse_crossed_a_step_since_the_last_run() -> None:
    since = NOW - timedelta(days=1)
    assert lapse_window(WINBACK, 1, since, NOW) == (since - timedelta(days=60), NOW - timedelta(days=60))


def test_entering_a_segment_is_the_trigger_not_being_in_it() -> None:
    segment = SEED.segments["regulars_mid_basket"]
    assert entered(segment, buyer(5, 1100), buyer(6, 1100), NOW)
    assert not entered(segment, buyer(6, 1100), buyer(7, 1100), NOW)


@pytest.mark.parametrize(("change", "named"), [
    (lambda doc: doc["segments"]["reachable"].update({"subscribd": True}), "segments.reachable.subscribd"),
    (lambda doc: doc["segments"]["regulars_mid_basket"]["receipts"].update({"mor_than": 5}),
     "segments.regulars_mid_basket.receipts.mor_than"),
    (lambda doc: doc["segments"].update({"empty": {"receipts": {}}}), "segments.empty.receipts"),
    (lambda doc: doc["campaigns"][1].update({"segment": "nobody"}), "campaigns.1.segment"),
    (lambda doc: doc["campaigns"][0]["steps"][1]["bonus"].update({"multiplier": 2}), "campaigns.0.steps.1.bonus"),
    (lambda doc: doc["campaigns"][0]["steps"].reverse(), "after_days must grow"),
])
def test_a_bad_segment_or_campaign_is_refused_at_load_with_its_key_named(
        tmp_path: Path, change: Callable[[dict[str, Any]], None], named: str) -> None:
    document = yaml.safe_load((ROOT / "program" / "program.yaml").read_text(encoding="utf-8"))
    change(document)
    path = tmp_path / "program.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ProgramError, match=named.replace(".", r"\.")):
        load_program(path)


def test_a_win_back_run_reaches_members_in_the_daytime_only() -> None:
    assert WINBACK.send_hours == (10, 21)
    assert WINBACK.sends_at(datetime(2026, 11, 23, 7, tzinfo=UTC))  # 10:00 Moscow
    assert not WINBACK.sends_at(datetime(2026, 11, 23, 6, 59, tzinfo=UTC))
    assert not WINBACK.sends_at(datetime(2026, 11, 23, 18, tzinfo=UTC))  # 21:00 Moscow


def test_a_holdout_keeps_back_its_share_each_member_on_one_side_and_other_campaigns_drawn_apart() -> None:
    offer = WINBACK.model_copy(update={"holdout_percent": 10})
    other = offer.model_copy(update={"name": "other"})
    ids = [str(100_000 + n) for n in range(10_000)]
    kept = {member for member in ids if held_out(offer, member)}
    assert 900 <= len(kept) <= 1_100  # 10% of 10,000, give or take three standard deviations
    assert kept == {member for member in ids if held_out(offer, member)}  # stable: the same every time
    assert len(kept & {member for member in ids if held_out(other, member)}) < 200  # drawn apart, not the same 10%
    assert not any(held_out(WINBACK, member) for member in ids)  # no holdout: nobody kept back


def test_the_expiry_reminder_keeps_nobody_back() -> None:
    with pytest.raises(ValueError, match="holdout_percent: the expiry reminder is owed to everyone"):
        Campaign(name="expiry", kind="expiring", messages={"ru": Message(text="Сгорят")}, holdout_percent=10)


def test_a_product_bought_within_days_and_the_survey_answers_are_conditions() -> None:
    cream = Good(name="Лепесток крем для рук 50 мл", gtin="04600000000017", sum_kopecks=45_000)
    noname = Good(name="Лепесток Мыло 100 г", sum_kopecks=20_000)
    facts = Facts().purchased(datetime(2026, 11, 10, 20, 30, tzinfo=UTC), "ozon", 65_000, (), [cream, noname])
    assert facts.last_product == "Лепесток крем для рук 50 мл"  # the dearest
    assert facts.bought == {"04600000000017": ("2026-11-10",), "лепесток мыло 100 г": ("2026-11-10",)}
    november = Segment.model_validate({"bought": {"products": ["04600000000017"], "since": "2026-11-01",
                                                  "until": "2026-11-30"}})
    assert november.matches(Member(facts=facts), NOW)
    assert not Segment.model_validate({"bought": {"products": ["04600000000017"], "since": "2026-11-11"}}).matches(
        Member(facts=facts), NOW)
    assert Segment.model_validate({"bought": {"products": ["ЛЕПЕСТОК мыло 100 г"]}}).matches(Member(facts=facts), NOW)
    late = Facts().purchased(datetime(2026, 11, 30, 21, 30, tzinfo=UTC), "ozon", 45_000, (), [cream])
    assert not november.matches(Member(facts=late), NOW)  # 00:30 on 1 December in Moscow
    unhappy = Segment.model_validate({"survey_rating": {"at_most": 3}, "recommends": {"at_least": 9}})
    assert unhappy.matches(Member(rating=2, recommends=10), NOW)
    assert not unhappy.matches(Member(rating=4, recommends=10), NOW) and not unhappy.matches(Member(), NOW)
    with pytest.raises(ValueError, match="since comes before until"):
        Segment.model_validate({"bought": {"products": ["x"], "since": "2026-12-01", "until": "2026-11-01"}})


def test_a_text_greets_by_name_and_names_the_level_and_last_product_with_fallbacks() -> None:
    text = "{first_name:Друг}, на уровне «{level:Старт}» вам понравится то, что к {last_product:покупке} идёт."
    step = Step(after_days=1, messages={"ru": Message(text=text)})
    assert written(step, "ru", "Лепесток", None, {}, {"first_name": "Анна", "level": "Подруга",
                                                      "last_product": "крем"}) == (
        "Анна, на уровне «Подруга» вам понравится то, что к крем идёт.")
    assert written(step, "ru", "Лепесток", None, {}, None) == (
        "Друг, на уровне «Старт» вам понравится то, что к покупке идёт.")
    with pytest.raises(ValueError, match=r"\{first_name\} needs a fallback"):
        Message(text="Привет, {first_name}!")
