"""1,000 generated members through a simulated month (tests/simulation.py): the contact policy holds for every one of
them, on what actually left — no letter at night in the member's own zone, none closer than the spacing, no more
marketing than the caps — and every transactional fact still reaches its member."""

from collections import defaultdict
from datetime import timedelta
from itertools import pairwise

import pytest

from loyalty.domain.conversation import FollowUp
from loyalty.domain.receipt import MOSCOW
from tests.simulation import END, Delivered, Month, letter_status

MEMBERS = 1000


@pytest.fixture(scope="module")
def month() -> Month:
    return Month(members=MEMBERS).live()


def by_member(month: Month) -> dict[str, list[Delivered]]:
    letters: dict[str, list[Delivered]] = defaultdict(list)
    for one in month.delivered():
        letters[one.member_id].append(one)
    return letters


def test_the_month_is_busy_enough_to_test_the_policy(month: Month) -> None:
    """Not a quiet month that passes by having nothing to do: letters were held and merged, broadcasts and win-backs
    went out, members in chosen zones were written to at hours Moscow calls night, and the schedule itself wrote
    nothing directly."""
    delivered = month.delivered()
    assert len({one.member_id for one in delivered}) > 0.8 * MEMBERS
    assert month.runs["held"] > 1000 and month.runs["merged"] > 10
    assert {"news_a", "news_b", "news_c", "winback", "onboarding_marketplace", "survey", "to_site",
            "expiring_points"} <= {one.what for one in delivered}
    far_east = [one for one in delivered if month.zone(one.member_id).key in ("Asia/Vladivostok", "Asia/Kamchatka")]
    assert any(one.at.astimezone(MOSCOW).hour < 9 for one in far_east)
    # all the schedule says is a letter; what it puts on the outbox itself only shows a member out of the community
    assert [message for message in month.schedule_out.messages if message.removes_from is None] == []


def test_no_letter_reaches_a_member_in_their_quiet_hours(month: Month) -> None:
    quiet = month.program.contact.quiet_hours
    at_night = [(one.member_id, one.what, one.at.astimezone(month.zone(one.member_id)).isoformat())
                for one in month.delivered() if quiet.quiet(one.at.astimezone(month.zone(one.member_id)).time())]
    assert at_night == []


def test_letters_to_one_member_are_spaced(month: Month) -> None:
    spacing = timedelta(minutes=month.program.contact.spacing_minutes)
    close = [(member_id, first.what, second.what, second.at - first.at)
             for member_id, letters in by_member(month).items()
             for first, second in pairwise(letters) if second.at - first.at < spacing]
    assert close == []


def test_no_member_gets_more_marketing_than_the_caps_allow(month: Month) -> None:
    caps = month.program.contact.marketing
    over_day, over_week, busiest_week = [], [], 0
    for member_id, letters in by_member(month).items():
        zone = month.zone(member_id)
        marketing = [one.at for one in letters if one.marketing]
        days: dict[object, int] = defaultdict(int)
        for at in marketing:
            days[at.astimezone(zone).date()] += 1
        over_day += [(member_id, day, count) for day, count in days.items() if count > caps.per_day]
        for index, at in enumerate(marketing):  # every window of 7 days that starts at a letter
            in_week = sum(1 for later in marketing[index:] if later - at < timedelta(days=7))
            busiest_week = max(busiest_week, in_week)
            if in_week > caps.per_week:
                over_week.append((member_id, at, in_week))
    assert over_day == [] and over_week == []
    assert busiest_week == caps.per_week  # some members were at the cap: it was tested, not just never reached


def test_every_transactional_fact_reaches_its_member(month: Month) -> None:
    """Points that became available or expired: each one's notice was sent (or went merged into another), none was
    dropped or left waiting; no expiry reminder was dropped either."""
    facts = month.facts()
    assert len(facts["activation"]) > 300 and len(facts["expiry"]) > 1000
    # a fact from the month's last days may still wait for its member's morning; any older one has reached them
    waits_from = END - month.program.contact.max_delay("notice")
    lost = [(member_id, entry_id, status) for kind in facts.values() for member_id, entry_id, at in kind
            if (status := letter_status(month, member_id, entry_id)) not in ("sent", "merged")
            and not (at > waits_from and status == "scheduled")]
    assert lost == []
    letters: list[FollowUp] = list(month.table.followups.values())
    notices = [letter for letter in letters if letter.kind == "notice"]
    assert notices and all(letter.status in ("sent", "merged") or letter.first_due > waits_from
                           for letter in notices)
    reminders = [letter for letter in letters if letter.kind == "reminder"]
    assert reminders and all(letter.status in ("sent", "skipped")
                             or letter.first_due > END - month.program.contact.max_delay("reminder")
                             for letter in reminders)
