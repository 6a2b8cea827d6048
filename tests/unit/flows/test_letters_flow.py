"""The brand's expiry reminder is points news, not marketing: it goes when the day's marketing is spent, and not at
all once the points it counted are gone. On the month's wiring (tests/simulation.py), with no generated members."""

from datetime import timedelta

from loyalty.contracts import CampaignMessage, PromoRequested, PurchaseLine, ReceiptAccepted
from loyalty.domain import contact
from loyalty.domain.conversation import FollowUp
from tests.simulation import START, Member, Month

MORNING = START + timedelta(hours=12)  # noon in Moscow


def reminded(user_id: int) -> tuple[Month, Member, FollowUp]:
    """A member who bought on the site: their points are available at once and expire ten days later; the schedule
    posts the reminder three days before."""
    month = Month(members=0)
    member = Member(member_id=str(user_id), language="ru", zone=None, joins_at=MORNING)
    month._join(member, MORNING)
    month.now = MORNING
    month.accrual.accrue(month_receipt(month, member), MORNING)
    for hour in range(10 * 24):  # lived hour by hour (onboarding and the survey go) until the reminder is posted,
        month.now = MORNING + timedelta(hours=hour)  # three days before the points expire
        month.postman.run(month.now)
        month.schedule.run(month.now)
        month.campaign_runs.run(month.now)
        posted = [one for one in month.table.followups.values() if one.kind == contact.Kind.REMINDER]
        if posted:
            break
    (letter,) = posted
    assert letter.status == "scheduled" and letter.due_at == MORNING + timedelta(days=7)
    month.campaign_queue.messages.clear()
    return month, member, letter


def month_receipt(month: Month, member: Member) -> ReceiptAccepted:
    line = PurchaseLine(name="Лепесток крем для рук 50 мл", sum_kopecks=45_000)
    return ReceiptAccepted(submission_id="sim:1", shopper=month.shopper(member), fiscal_key="7700000017:1:1",
                           channel="d2c", channel_kind="d2c", store="Лепесток", brand_sum_kopecks=45_000,
                           lines=(line,), issued_at=MORNING)


def test_an_expiry_reminder_goes_when_the_days_marketing_is_spent() -> None:
    month, member, letter = reminded(9101)
    now = letter.due_at + timedelta(hours=3)
    for hours in (1, 2):  # two marketing letters today already: the caps are full
        month.table.contacted(member.member_id, contact.Sent(at=now - timedelta(hours=hours * 2 + 1), marketing=True))
    assert month.postman.run(now) == {"sent": 1}
    (sent,) = month.campaign_queue.messages
    assert isinstance(sent, CampaignMessage) and sent.campaign == "expiring_points"
    assert sent.text.startswith("У вас сгорит")


def test_an_expiry_reminder_is_not_sent_once_its_points_were_spent() -> None:
    month, member, letter = reminded(9102)
    balance = month.books.read(member.member_id)[0].balance.available
    month.accrual.promo(PromoRequested(request_id="p1", shopper=month.shopper(member), points=balance),
                        letter.due_at)
    assert month.postman.run(letter.due_at + timedelta(hours=1)) == {"skipped": 1}
    assert month.campaign_queue.messages == []
