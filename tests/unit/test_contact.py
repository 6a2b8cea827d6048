"""The contact policy's pure rules (domain/contact.py): quiet hours in the member's zone, spacing, the marketing
caps, priority, merging and the max delay."""

from datetime import UTC, datetime, time, timedelta

import pytest
from pydantic import ValidationError

from loyalty.domain.contact import Caps, Contact, Due, QuietHours, Sent, next_slot, plan

POLICY = Contact()
MOSCOW = POLICY.zone("ru")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=MOSCOW)


def due(letter_id: str, kind: str, scheduled: datetime) -> Due:
    return Due(id=letter_id, kind=kind, scheduled_for=scheduled)


def test_a_letter_due_at_night_waits_for_the_morning_in_the_members_own_zone() -> None:
    assert next_slot(POLICY, MOSCOW, at(9, 22), [], False) == at(10, 10)
    assert next_slot(POLICY, MOSCOW, at(10, 3), [], True) == at(10, 10)
    assert next_slot(POLICY, MOSCOW, at(10, 12), [], True) == at(10, 12)
    samara = POLICY.zone("ru", chosen="Europe/Samara")  # 10:00 there is 09:00 in Moscow
    assert next_slot(POLICY, samara, at(10, 8), [], False) == at(10, 9)
    assert POLICY.zone("xx", chosen="Not/AZone") == MOSCOW  # a zone that is not one falls back to the language's
    daytime = Contact(quiet_hours=QuietHours(start=time(13), end=time(14)))  # quiet hours within one day
    assert next_slot(daytime, MOSCOW, at(10, 13, 30), [], False) == at(10, 14)


def test_letters_are_spaced_and_marketing_is_capped_by_the_day_and_the_week() -> None:
    assert next_slot(POLICY, MOSCOW, at(10, 11), [Sent(at=at(10, 10), marketing=False)], False) == at(10, 12)
    two_today = [Sent(at=at(10, 10), marketing=True), Sent(at=at(10, 13), marketing=True)]
    assert next_slot(POLICY, MOSCOW, at(10, 16), two_today, False) == at(10, 16)  # notices are not capped
    assert next_slot(POLICY, MOSCOW, at(10, 16), two_today, True) == at(11, 10)  # the next day's morning
    week = [Sent(at=at(day, 12), marketing=True) for day in range(5, 10)]  # five in the last seven days
    assert next_slot(POLICY, MOSCOW, at(10, 12), week, True) == at(12, 12)  # when the oldest leaves the window
    with pytest.raises(ValueError, match="no marketing"):
        next_slot(Contact(marketing=Caps(per_day=0)), MOSCOW, at(10, 12), [], True)


def test_due_notices_go_as_one_message_first_and_the_rest_moves_to_its_next_slot() -> None:
    letters = [due("nudge", "nudge", at(10, 9)), due("available:1", "notice", at(10, 0, 5)),
               due("survey", "survey", at(10, 9)), due("available:2", "notice", at(10, 0, 5)),
               due("welcome", "onboarding", at(10, 9))]
    now = at(10, 10)
    decided = plan(POLICY, MOSCOW, letters, [], now)
    assert decided.send == ["available:1", "available:2"] and decided.drop == []
    assert decided.postpone == {"survey": at(10, 12), "welcome": at(10, 12), "nudge": at(10, 12)}
    # the next run at noon sends the survey (priority), then onboarding, then the nudge
    later = plan(POLICY, MOSCOW, [due(i, k, at(10, 9)) for i, k in (("nudge", "nudge"), ("welcome", "onboarding"),
                                                                    ("survey", "survey"))],
                 [Sent(at=now, marketing=False)], at(10, 12))
    assert later.send == ["survey"] and later.postpone == {"welcome": at(10, 14), "nudge": at(10, 14)}


def test_a_letter_that_waited_past_its_max_delay_is_dropped_not_sent_late() -> None:
    letters = [due("old", "campaign", at(7, 12)), due("fresh", "campaign", at(9, 12))]
    decided = plan(POLICY, MOSCOW, letters, [], at(9, 13))  # a campaign waits 48 hours at most
    assert decided.drop == ["old"] and decided.send == ["fresh"]
    assert plan(POLICY, MOSCOW, [due("night", "nudge", at(9, 23))], [], at(9, 23, 30)).postpone == {
        "night": at(10, 10)}


def test_a_policy_is_validated_with_its_key_named() -> None:
    with pytest.raises(ValidationError, match="not a time zone"):
        Contact(time_zones={"ru": "Moscow"})
    with pytest.raises(ValidationError, match="every kind"):
        Contact(max_delay_hours={"notice": 10})
    assert Contact.model_validate({"quiet_hours": {"start": "22:00", "end": "09:00"}}).quiet_hours.quiet(time(23))
    assert datetime(2026, 12, 10, 7, tzinfo=UTC).astimezone(MOSCOW).hour == 10
    assert POLICY.max_delay("survey") == timedelta(hours=72)
