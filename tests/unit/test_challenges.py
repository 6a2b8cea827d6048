"""Challenges (domain/challenges.py): what completes one, when a count starts again, what repeats, and the words a
member reads of where they stand."""

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from loyalty.adapters.program_file import ProgramError, load_program
from loyalty.contracts import PurchaseLine
from loyalty.domain import postings
from loyalty.domain.challenges import Challenge, Event, Progress, Reward, advance, standing
from loyalty.domain.earning import purchase_credit
from loyalty.domain.receipt import MOSCOW
from loyalty.domain.wallet import Wallet
from tests.conftest import ROOT

START = datetime(2026, 12, 1, 12, 0, tzinfo=MOSCOW)
THREE_IN_30 = Challenge(id="three", title="3 чека за 30 дней", goal="receipts", target=3, window_days=30,
                        reward={"points": 100})


def bought(days: float, kind: str = "marketplace") -> Event:
    return Event(at=START + timedelta(days=days), kind="purchase", channel_kind=kind)


def run(challenge: Challenge, *events: Event) -> tuple[Progress, list[int]]:
    """The progress after `events`, and which of them completed a round (their index)."""
    progress, completions = Progress(), []
    for index, event in enumerate(events):
        progress, done = advance(challenge, progress, event)
        if done:
            completions.append(index)
    return progress, completions


def test_three_receipts_within_thirty_days_complete_it_on_the_third_and_once() -> None:
    progress, completions = run(THREE_IN_30, bought(0), bought(10), bought(29), bought(31), bought(32))
    assert completions == [2]
    assert progress.completed == 1
    assert standing(THREE_IN_30, progress, START + timedelta(days=40), "ru") == "выполнено"


def test_a_receipt_past_the_window_starts_the_count_again_with_itself() -> None:
    progress, completions = run(THREE_IN_30, bought(0), bought(10), bought(31), bought(40))
    assert completions == []
    assert (progress.receipts, progress.since) == (2, START + timedelta(days=31))
    _, completions = run(THREE_IN_30, bought(0), bought(10), bought(31), bought(40), bought(60))
    assert completions == [4]


def test_a_repeating_challenge_starts_afresh_after_each_round_and_pays_each() -> None:
    again = THREE_IN_30.model_copy(update={"repeats": True})
    progress, completions = run(again, *(bought(day) for day in range(7)))
    assert completions == [2, 5]
    assert (progress.completed, progress.receipts) == (2, 1)


def test_a_review_and_the_brands_own_site_complete_theirs_and_nothing_else_does() -> None:
    review = Challenge(id="review", title="Отзыв", goal="review", reward={"badge": "Критик"})
    site = Challenge(id="site", title="Покупка на сайте", goal="site_purchase", reward={"spins": 1})
    assert run(review, bought(0), bought(1, "d2c"))[1] == []
    assert run(review, bought(0), Event(at=START, kind="review"))[1] == [1]
    assert run(site, bought(0), bought(1, "retail"), bought(2, "d2c"), bought(3, "d2c"))[1] == [2]


def test_two_kinds_of_channel_within_the_window_complete_it_whatever_the_order() -> None:
    both = Challenge(id="both", title="Два канала", goal="channels", target=2, window_days=60,
                     reward={"points": 50})
    assert run(both, bought(0), bought(5), bought(20, "retail"))[1] == [2]
    assert run(both, bought(0), bought(5, "other"), bought(61, "retail"))[1] == []


def test_a_streak_is_a_receipt_in_each_month_in_a_row() -> None:
    streak = Challenge(id="streak", title="3 месяца подряд", goal="monthly_streak", target=3,
                       reward={"points": 300, "badge": "Постоянный покупатель"})
    december, january, february, april = (datetime(2026, 12, 5, tzinfo=MOSCOW), datetime(2027, 1, 31, tzinfo=MOSCOW),
                                           datetime(2027, 2, 1, tzinfo=MOSCOW), datetime(2027, 4, 2, tzinfo=MOSCOW))
    events = [Event(at=moment, kind="purchase", channel_kind="retail") for moment in (december, january, february)]
    assert run(streak, *events)[1] == [2]
    broken = [Event(at=moment, kind="purchase", channel_kind="retail") for moment in (december, february, april)]
    progress, completions = run(streak, *broken)
    assert completions == [] and progress.months == ("2027-04",)
    twice_in_a_month = [Event(at=december, kind="purchase"), Event(at=december + timedelta(days=3), kind="purchase")]
    assert run(streak, *twice_in_a_month)[0].months == ("2026-12",)


def test_a_challenge_counts_only_while_it_is_open() -> None:
    winter = THREE_IN_30.model_copy(update={"starts": date(2026, 12, 5), "ends": date(2026, 12, 31)})
    progress, completions = run(winter, bought(0), bought(5), bought(10), bought(31))
    assert completions == [] and progress.receipts == 2


def test_where_the_member_stands_in_russian_and_english() -> None:
    progress, _ = run(THREE_IN_30, bought(0), bought(3))
    now = START + timedelta(days=18)
    assert standing(THREE_IN_30, progress, now, "ru") == "2 из 3 чеков, осталось 12 дней"
    assert standing(THREE_IN_30, progress, now, "en") == "2 of 3 receipts, 12 days left"
    assert standing(THREE_IN_30, Progress(), now, "ru") == "0 из 3 чеков, осталось 30 дней"
    expired = START + timedelta(days=45)
    assert standing(THREE_IN_30, progress, expired, "ru") == "0 из 3 чеков, осталось 30 дней"


def test_a_streak_in_progress_says_how_long_this_month_has_left() -> None:
    streak = Challenge(id="streak", title="3 месяца подряд", goal="monthly_streak", target=3, reward={"points": 1})
    progress, _ = run(streak, Event(at=datetime(2026, 11, 20, tzinfo=MOSCOW), kind="purchase"))
    text = standing(streak, progress, datetime(2026, 12, 20, 12, tzinfo=MOSCOW), "ru")
    assert text == "1 из 3 месяцев подряд; чек в этом месяце — до конца осталось 12 дней"


@pytest.mark.parametrize(("fields", "says"), [
    ({"goal": "receipts", "target": 3}, "window_days"),
    ({"goal": "review", "target": 2}, "leave target out"),
    ({"goal": "monthly_streak", "target": 3, "window_days": 30}, "receipts and channels only"),
    ({"goal": "channels", "target": 4, "window_days": 30}, "three kinds"),
    ({"goal": "review", "reward": {}}, "points, a badge or spins"),
    ({"goal": "review", "starts": "2027-01-02", "ends": "2027-01-01"}, "starts comes before ends"),
])
def test_a_challenge_that_cannot_work_is_refused_with_what_to_fix(fields: dict[str, object], says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        Challenge.model_validate({"id": "x", "title": "X", "reward": {"points": 1}, **fields})


def test_the_program_takes_challenges_by_unique_id(tmp_path: Path) -> None:
    text = (ROOT / "program" / "program.yaml").read_text(encoding="utf-8")
    one = ("  - {id: three, title: 3 чека за месяц, goal: receipts, target: 3, window_days: 30, "
           "reward: {points: 100}}\n")
    (tmp_path / "one.yaml").write_text(text + "challenges:\n" + one, encoding="utf-8")
    (tmp_path / "twice.yaml").write_text(text + "challenges:\n" + one + one, encoding="utf-8")
    assert load_program(tmp_path / "one.yaml").challenge("three") == THREE_IN_30.model_copy(
        update={"title": "3 чека за месяц"})
    with pytest.raises(ProgramError, match="challenges: ids must be unique"):
        load_program(tmp_path / "twice.yaml")


def test_the_purchase_that_completes_a_challenge_pays_its_reward_in_the_same_step() -> None:
    """The ledger writes one step per entry: the reward rides on the entry that completed the round, so a replayed
    entry cannot pay it twice and a lost one cannot pay it at all."""
    program = load_program(ROOT / "program" / "program.yaml").model_copy(update={"challenges": [
        THREE_IN_30.model_copy(update={"reward": Reward(points=100, badge="Три чека", spins=1)}),
        Challenge(id="site", title="Покупка на сайте", goal="site_purchase", reward={"points": 50})]})
    wallet, steps = Wallet(), []
    for number, channel in enumerate(["wildberries", "wildberries", "d2c"]):
        moment = START + timedelta(days=number)
        credit = purchase_credit(program, wallet, [PurchaseLine(name="крем", sum_kopecks=45_000)], channel,
                                 program.channel_kind(channel), moment)
        step = postings.purchase(program, wallet, f"receipt#{number}", credit, 45_000, "store", channel, moment)
        wallet = step.wallet
        steps.append(step)
    last = steps[-1]
    assert [step.details.challenges for step in steps] == [[], [], ["three", "site"]]
    assert last.details.challenge_points == 150
    assert wallet.lots["receipt#2~three"].points == 100 and wallet.lots["receipt#2~site"].points == 50
    assert last.change.available + last.change.pending == wallet.lots["receipt#2"].points + 150
    assert last.change.available >= 150  # bought on the site: available at once, and so are the rewards it earned
    assert [badge.challenge for badge in wallet.badges] == ["three"]
    assert wallet.spins == 3 + 1  # the shipped draw's spin for each receipt, and the challenge's
    assert wallet.challenges["three"].completed == 1


def test_a_review_moves_the_review_challenge_and_a_held_purchase_moves_none() -> None:
    program = load_program(ROOT / "program" / "program.yaml").model_copy(update={"challenges": [
        Challenge(id="review", title="Отзыв", goal="review", reward={"points": 30}), THREE_IN_30]})
    step = postings.bonus(program, Wallet(), "review#1", 100, "бонус за отзыв", START, review=True)
    assert step.details.challenges == ["review"] and step.wallet.lots["review#1~review"].points == 30
    credit = purchase_credit(program, Wallet(), [PurchaseLine(name="крем", sum_kopecks=45_000)], "wildberries",
                             "marketplace", START)
    held = postings.purchase(program, Wallet(), "receipt#1", credit, 45_000, "WB", "wildberries", START, held=True)
    assert held.wallet.challenges == {}
