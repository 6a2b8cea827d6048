"""The Mini App's profile (flows/miniapp.py: change_profile) on the fakes: the birthday as /birthday keeps it, the
interests a segment reads and a message names, the language and the marketing switch as /stop and /start; and the
report's count of the interests, from the members' items as the figures stream sees them."""

from collections import Counter
from datetime import date, timedelta

import pytest

from loyalty.domain.campaigns import member_of
from loyalty.domain.daily import changed, member_tally
from loyalty.domain.dashboard import dashboard
from loyalty.domain.figures import figures
from loyalty.domain.segments import Segment
from loyalty.flows.campaigns import personal
from loyalty.flows.miniapp import MiniApp, ProfileChange, ProfileRefused
from loyalty.flows.replies import Replies
from tests.fakes import STACK_KEY, MemoryBotTable
from tests.unit.flows.conftest import NOW, PROGRAM, World


def app(world: World) -> MiniApp:
    return MiniApp(PROGRAM, world.books, world.books, MemoryBotTable(), world.accrual_queue, STACK_KEY,
                   Replies(world.outbox))


def change(**parts: object) -> ProfileChange:
    return ProfileChange.model_validate({"request_key": "tap1", **parts})


def test_the_profile_keeps_the_interests_language_and_marketing_and_queues_the_birthday_as_the_bot_does(
        world: World) -> None:
    anna = world.join("601", phone="+79160000601")
    kept = app(world).change_profile(anna, change(birthday="14 мая", interests={"skin_type": ["dry"],
                                                                                "care": ["spf", "hydration"]},
                                                  marketing=False), NOW)
    assert [(i.id, [o.id for o in i.options if o.chosen]) for i in kept.interests] == [
        ("skin_type", ["dry"]), ("care", ["hydration", "spf"])]  # in the program's order
    assert kept.marketing is False and present_member(world, anna).subscribed is False
    (given,) = [message for message in world.accrual_queue.messages if type(message).__name__ == "BirthdayGiven"]
    assert (given.month, given.day) == (5, 14)
    world.accrual.birthday(given, NOW)
    again = app(world).change_profile(anna, change(marketing=True, language="en"), NOW)
    assert (again.birthday, again.birthday_day, again.language, again.marketing) == ("14 May", "14.05", "en", True)
    assert again.birthday_locked_until == "23 November"  # a year after it was given
    assert again.gift == "300 points as a gift 3 days before your birthday"
    assert [[o.id for o in i.options if o.chosen] for i in again.interests] == [["dry"], ["hydration", "spf"]]


@pytest.mark.parametrize(("parts", "says"), [
    ({"interests": {"skin_type": ["dry", "oily"]}}, "one option only"),
    ({"interests": {"hair": ["long"]}}, "no interest 'hair'"),
    ({"interests": {"care": ["gold"]}}, "no option 'gold'"),
    ({"birthday": "31.02"}, "Не получилось понять дату"),
])
def test_a_change_that_cannot_be_kept_says_what_to_do_and_keeps_nothing(world: World, parts: dict[str, object],
                                                                        says: str) -> None:
    boris = world.join("602", phone="+79160000602")
    with pytest.raises(ProfileRefused, match=says):
        app(world).change_profile(boris, change(**parts), NOW)
    assert present_member(world, boris).interests == {}


def test_a_corrected_birthday_waits_a_year_in_the_app_as_in_the_chat(world: World) -> None:
    vera = world.join("603", phone="+79160000603")
    app(world).change_profile(vera, change(birthday="14.05"), NOW)
    world.accrual.birthday(world.accrual_queue.messages[-1], NOW)
    with pytest.raises(ProfileRefused, match="после 23 ноября"):
        app(world).change_profile(vera, change(birthday="15.05"), NOW + timedelta(days=30))


def test_a_segment_reads_the_interests_and_a_message_names_them_with_a_fallback_for_a_member_who_gave_none(
        world: World) -> None:
    dry = Segment.model_validate({"interests": {"skin_type": ["dry", "sensitive"]}})
    gleb, dina = world.join("604", phone="+79160000604"), world.join("605", phone="+79160000605")
    app(world).change_profile(gleb, change(interests={"skin_type": ["sensitive"], "care": ["natural"]}), NOW)
    chosen = present_member(world, gleb).interests
    wallet, _, holder = world.books.read(gleb)
    assert dry.matches(member_of(wallet, NOW, interests=chosen), NOW)
    assert not dry.matches(member_of(world.books.read(dina)[0], NOW, interests={}), NOW)
    holder = holder.model_copy(update={"interests": chosen})
    values = personal(PROGRAM, holder, wallet)
    assert "{interest_skin_type:вашей кожи}".format(**{k: _Fallback(v) for k, v in values.items()}) == \
        "чувствительная"
    shipped = PROGRAM.model_dump(by_alias=True, exclude_none=True)
    with pytest.raises(ValueError, match="no profile interest 'hair'"):
        PROGRAM.model_validate({**shipped, "segments": {**shipped["segments"], "hair": {"interests": {"hair": ["a"]}}}})


def test_the_report_counts_each_option_chosen_and_an_erasure_takes_it_away() -> None:
    joined = {"member_id": "1", "joined_at": "2026-11-09T10:00:00+00:00", "interests": {"skin_type": ["dry"],
                                                                                     "care": ["spf", "natural"]}}
    days = {date(2026, 11, 9): Counter({"joined:organic": 1}) + Counter(
        {"interest:skin_type:dry": 1, "interest:care:spf": 1, "interest:care:natural": 1})}
    assert member_tally(joined) == days
    erased = {**joined, "erased_at": "2026-11-20T10:00:00+00:00", "interests": {}}
    drop = changed(member_tally(joined), member_tally(erased))
    assert drop[date(2026, 11, 9)] == Counter({"interest:skin_type:dry": -1, "interest:care:spf": -1,
                                               "interest:care:natural": -1})
    now = figures(days, date(2026, 11, 1), date(2026, 12, 1))
    assert now.interests_end == {"care:natural": 1, "care:spf": 1, "skin_type:dry": 1}
    rows = {row.label: row.now for row in dashboard(PROGRAM, days, date(2026, 11, 1), date(2026, 12, 1))
            .table("interests").rows}  # type: ignore[union-attr]
    assert rows["Тип кожи: сухая"] == 1 and rows["Что для вас важно в уходе: защита от солнца"] == 1
    assert rows["Тип кожи: жирная"] == 0


class _Fallback:
    def __init__(self, value: str | None):
        self.value = value

    def __format__(self, fallback: str) -> str:
        return self.value or fallback


def present_member(world: World, member_id: str):  # type: ignore[no-untyped-def]
    member = world.books.get(member_id)
    assert member is not None
    return member
