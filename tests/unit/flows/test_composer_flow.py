"""Campaigns made in the console, on in-memory adapters: the seed's example offer is built without YAML, checked by the
program file's rules with the file's messages, kept over the version it was made from and audited; it moves draft →
scheduled → running → stopped, a running one is not edited, the campaigns run runs the live ones through the same
code as the file's, and a stop reaches the sender within a minute, mid-send."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from loyalty import clock
from loyalty.contracts import PurchaseLine
from loyalty.domain import audit, composer
from loyalty.domain.composer import ApprovalRule, CampaignRefused, State
from loyalty.domain.console import Refused, Session
from loyalty.domain.segments import Segment
from loyalty.domain.staff import Role, StaffMember
from loyalty.flows.campaign_sender import CampaignSender
from loyalty.flows.campaigns import Campaigns, Touches
from loyalty.flows.composer import Composer
from loyalty.flows.console_read import ConsoleRead
from loyalty.flows.reach import ReachCounter
from tests.fakes import (
    MemoryAuditLog,
    MemoryBooks,
    MemoryCampaigns,
    MemoryConsoleTable,
    MemoryOnce,
    MemoryOutbox,
    MemoryPace,
    MemoryQueue,
    MemoryTelegram,
)
from tests.unit.flows.conftest import PROGRAM, World
from tests.unit.flows.test_senders_flow import record

NOW = datetime(2026, 12, 7, 9, tzinfo=UTC)  # 12:00 in Moscow
SESSION = Session(id="session-of-olga-01", telegram_id=5_000_002, expires_at=NOW + timedelta(hours=8))
MARKETER = StaffMember(telegram_id=5_000_002, role=Role.MARKETER, name="Ольга")
SUPPORT = StaffMember(telegram_id=5_000_001, role=Role.SUPPORT, name="Мария")

# The seed's example, as the composer sends it: more than 5 purchases and an average receipt of 1,000–1,200 ₽ →
# buy for 1,500 ₽ within 5 days for double points.
REGULARS = {"receipts": {"more_than": 5}, "average_receipt_roubles": {"between": [1000, 1200]}, "subscribed": True}
OFFER = {"title": "Двойные баллы постоянным", "kind": "triggered", "goal": {"within_days": 5},
         "bonus": {"multiplier": 2, "days": 5, "min_receipt_roubles": 1500},
         "messages": {"ru": {"text": "Купите на {min_receipt} ₽ за {days} {days_word} — начислим двойные баллы."}}}


class Office:
    def __init__(self) -> None:
        self.table, self.audit = MemoryConsoleTable(), MemoryAuditLog()
        self.composer = Composer(PROGRAM, self.table, self.audit)

    def save(self, name: str, campaign: dict[str, Any], segment: dict[str, Any] | None = None,
             staff: StaffMember = MARKETER, at: datetime = NOW) -> composer.Made:
        self.composer.save(SESSION, staff, {**campaign, "name": name}, segment, at)
        made = self.table.made(name)
        assert made is not None
        return made


@pytest.fixture
def office() -> Office:
    return Office()


def test_the_seeds_offer_is_built_without_yaml_checked_as_the_file_is_and_audited(office: Office) -> None:
    made = office.save("regulars_double", OFFER, REGULARS)
    assert (made.state, made.version, made.campaign.segment) == (State.DRAFT, 1, "regulars_double")
    live = composer.checked(PROGRAM, [made])
    assert live.segments["regulars_double"].receipts is not None and live.campaign("regulars_double") is not None
    (entry,) = office.audit.chain
    assert (entry.action, entry.subject, entry.actor.telegram_id, entry.before) == (
        audit.Action.CAMPAIGN_SAVED, "regulars_double", MARKETER.telegram_id, None)
    assert entry.after is not None and entry.after["state"] == "draft"
    listed = office.composer.campaigns()
    assert [(view.name, view.state_words, view.editable) for view in listed] == [
        ("regulars_double", "черновик", True)]


def test_a_campaign_the_file_would_refuse_is_refused_with_the_files_message(office: Office) -> None:
    with pytest.raises(CampaignRefused, match=r"unknown placeholder \{name\}") as bad_text:
        office.save("hello", {**OFFER, "messages": {"ru": {"text": "Привет, {name}"}}}, REGULARS)
    assert bad_text.value.status == 422
    with pytest.raises(CampaignRefused, match="campaigns: names must be unique"):
        office.save("winback", OFFER, REGULARS)  # the program file has a campaign of that name
    with pytest.raises(CampaignRefused, match=r"segment: no segment 'vips' in segments"):
        office.save("for_vips", {**OFFER, "segment": "vips"})
    with pytest.raises(CampaignRefused, match="fires on entering its segment"):
        office.save("nobody", OFFER)
    assert office.table.all_made() == [] and office.audit.chain == []


def test_launching_stopping_and_copying_move_the_state_and_a_running_campaign_is_not_edited(office: Office) -> None:
    office.save("regulars_double", OFFER, REGULARS)
    office.composer.save(SESSION, MARKETER, {**OFFER, "name": "regulars_double", "title": "Двойные баллы"},
                         REGULARS, NOW)  # a draft is edited as often as the marketer likes
    running = office.composer.launch(SESSION, MARKETER, "regulars_double", NOW)
    assert (running.state, running.version, running.title) == (State.RUNNING, 3, "Двойные баллы")
    with pytest.raises(CampaignRefused, match=re.escape("Двойные баллы» идёт: её нельзя изменить. Остановите её или")):
        office.save("regulars_double", OFFER, REGULARS)
    assert office.composer.stop(SESSION, MARKETER, "regulars_double", NOW).state == State.STOPPED
    with pytest.raises(CampaignRefused, match="Запустить можно только черновик"):
        office.composer.launch(SESSION, MARKETER, "regulars_double", NOW)
    copy = office.composer.copy(SESSION, MARKETER, "regulars_double", "regulars_double_2", NOW)
    assert (copy.state, copy.version, copy.campaign["segment"]) == (State.DRAFT, 1, "regulars_double_2")
    assert Segment.model_validate(copy.segment) == Segment.model_validate(REGULARS)
    assert [entry.action for entry in office.audit.chain] == [
        audit.Action.CAMPAIGN_SAVED, audit.Action.CAMPAIGN_SAVED, audit.Action.CAMPAIGN_LAUNCHED,
        audit.Action.CAMPAIGN_STOPPED, audit.Action.CAMPAIGN_COPIED]
    spring = {"title": "Весна", "kind": "broadcast", "at": (NOW + timedelta(days=3)).isoformat(),
              "messages": {"ru": {"text": "Весна!"}}}
    office.save("spring", spring)
    assert office.composer.launch(SESSION, MARKETER, "spring", NOW).state == State.SCHEDULED  # waits for its moment
    assert office.save("spring", {**spring, "title": "Весна пришла"}).state == State.SCHEDULED  # still editable


def test_a_role_without_campaigns_changes_nothing(office: Office) -> None:
    with pytest.raises(Refused) as refused:
        office.save("regulars_double", OFFER, REGULARS, staff=SUPPORT)
    assert refused.value.status == 403 and office.table.all_made() == []


OWNER = StaffMember(telegram_id=5_000_000, role=Role.OWNER, name="Анна")


def test_a_launch_over_the_owners_threshold_asks_the_owner_and_the_owners_launch_is_the_approval() -> None:
    books, table, outbox, log = MemoryBooks(PROGRAM), MemoryConsoleTable(), MemoryOutbox(), MemoryAuditLog()
    for member in ("1101", "1102", "1103"):
        books.join(member, int(member), "ru")
    office = Composer(PROGRAM, table, log, ReachCounter(PROGRAM, books), outbox,
                      owners=lambda: [OWNER.telegram_id])
    gift = {"title": "Подарок", "kind": "broadcast", "at": NOW.isoformat(), "bonus": {"points": 100,
                                                                                     "expires_in_days": 7},
            "messages": {"ru": {"text": "Дарим {points} баллов"}}}
    office.save(SESSION, MARKETER, {**gift, "name": "gift"}, {"subscribed": True}, NOW)
    with pytest.raises(Refused):
        office.set_approval_rule(SESSION, MARKETER, ApprovalRule(points=250), NOW)  # the owner's to set
    office.set_approval_rule(SESSION, OWNER, ApprovalRule(points=250), NOW)
    asked = office.launch(SESSION, MARKETER, "gift", NOW)  # 3 members × 100 points: over 250
    assert (asked.state, asked.approval_asked) == (State.DRAFT, "до 300 баллов бонуса (порог — 250)")
    assert outbox.texts(OWNER.telegram_id) == [
        "Ольга просит одобрить кампанию «Подарок»: до 300 баллов бонуса (порог — 250). Откройте консоль (/console) "
        "и запустите её, если согласны."]
    assert office.launch(SESSION, MARKETER, "gift", NOW).state == State.DRAFT  # asking again launches nothing
    approved = office.launch(SESSION, OWNER, "gift", NOW)
    assert (approved.state, approved.approval_asked) == (State.RUNNING, None)
    assert [(entry.action, entry.reason) for entry in log.chain][-3:] == [
        (audit.Action.APPROVAL_ASKED, "до 300 баллов бонуса (порог — 250)"),
        (audit.Action.APPROVAL_ASKED, "до 300 баллов бонуса (порог — 250)"),
        (audit.Action.CAMPAIGN_LAUNCHED, "одобрено владельцем: до 300 баллов бонуса (порог — 250)")]
    office.save(SESSION, MARKETER, {**gift, "name": "small", "bonus": {"points": 50, "expires_in_days": 7}},
                {"subscribed": True}, NOW)
    assert office.launch(SESSION, MARKETER, "small", NOW).state == State.RUNNING  # 150 points: under it


def test_a_change_from_a_stale_page_is_refused_not_lost(office: Office) -> None:
    made = office.save("regulars_double", OFFER, REGULARS)
    office.table.keep(composer.launched(made, NOW))  # another window launched it meanwhile
    with pytest.raises(CampaignRefused, match="уже изменили"):
        office.table.keep(composer.edited(made, made))
    stored = office.table.made("regulars_double")
    assert stored is not None and stored.state == State.RUNNING


def test_the_campaigns_run_sends_a_live_console_broadcast_once_through_the_same_code(
        office: Office) -> None:
    books, records, queue = MemoryBooks(PROGRAM), MemoryCampaigns(), MemoryQueue()
    for member in ("1001", "1002"):
        books.join(member, int(member), "ru")
    run = Campaigns(PROGRAM, books, records, Touches(PROGRAM, books, records, queue),
                    ConsoleRead(PROGRAM, office.table).program)
    news = {"title": "Новинка", "kind": "broadcast", "at": NOW.isoformat(), "messages": {"ru": {"text": "Новинка!"}}}
    office.save("news", news, {"subscribed": True})
    office.save("draft_only", {**news, "title": "Черновик"})
    assert "news" not in run.run(NOW)  # a draft is not run
    office.composer.launch(SESSION, MARKETER, "news", NOW)
    assert run.run(NOW + timedelta(minutes=15))["news"] == 2
    assert sorted(message.chat_id for message in queue.messages) == [1001, 1002]
    assert "news" not in run.run(NOW + timedelta(minutes=30)) and len(queue.messages) == 2  # once
    shown = Composer(PROGRAM, office.table, office.audit, figures=records)
    assert {made.name: made.state for made in shown.campaigns()}["news"] == State.RUNNING  # still going out
    for message in queue.messages:
        records.settle("news", message.touch, "delivered", NOW + timedelta(minutes=16))
    assert {made.name: made.state_words for made in shown.campaigns()}["news"] == "завершена"  # all of it went
    page = shown.results("news")
    assert (page.title, page.state_words, page.results.delivered, page.results.sent_rate) == (
        "Новинка", "завершена", 2, 0.0)
    assert page.results.verdict.startswith("Контрольной группы нет")
    with pytest.raises(CampaignRefused, match="Кампании 'nothing' нет"):
        shown.results("nothing")


class CountedTable(MemoryConsoleTable):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def all_made(self) -> list[composer.Made]:
        self.reads += 1
        return super().all_made()


def test_a_launched_console_offer_reaches_the_purchase_that_brings_a_member_into_its_segment_within_a_minute() -> None:
    """The seed's example as a console campaign (the file's own triggered offer left out): a draft reaches nobody; once
    launched, the accrual flow reads it within a minute, and the sixth purchase of about 1,100 ₽ brings the member
    into its segment and is answered with the offer, once."""
    program = PROGRAM.model_copy(update={"campaigns": [c for c in PROGRAM.campaigns if c.kind != "triggered"]})
    world, table = World(program), CountedTable()
    world.accrual.live = ConsoleRead(program, table).program
    office = Composer(program, table, MemoryAuditLog())
    office.save(SESSION, MARKETER, {**OFFER, "name": "regulars_double"}, REGULARS, NOW)
    member, basket = world.join("1001"), PurchaseLine(name="Лепесток крем для лица 50 мл", sum_kopecks=110_000)
    table.reads = 0
    for seconds in (0, 20, 40, 60, 240):
        world.buy(member, basket, now=NOW + timedelta(seconds=seconds))
    assert table.reads == 3  # once a minute at most: at 0, 60 and 240 seconds
    office.launch(SESSION, MARKETER, "regulars_double", NOW + timedelta(minutes=4, seconds=30))
    table.reads = 0
    world.buy(member, basket, now=NOW + timedelta(minutes=4, seconds=40))  # read at minute 4: not launched then
    assert world.campaign_texts(member) == [] and table.reads == 0
    world.buy(member, basket, now=NOW + timedelta(minutes=6))  # the seventh: a minute on, and it is read again
    assert world.campaign_texts(member) == []  # she entered the segment with the sixth, while the offer was a draft
    other = world.join("1002")
    for minute in range(6):
        world.buy(other, basket, now=NOW + timedelta(minutes=10 + minute))
    offers = world.campaign_texts(other)
    assert offers == ["Купите на 1500 ₽ за 5 дней — начислим двойные баллы."]
    world.buy(other, basket, now=NOW + timedelta(minutes=20))
    assert world.campaign_texts(other) == offers  # not again while she stays in the segment


def test_a_broadcast_stopped_mid_send_sends_nothing_more_within_a_minute_once_each_and_says_how_many_got_it(
        office: Office, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three members, one message sent, then the marketer stops it: within a minute the sender drops the two still
    queued (a redelivery sends nothing either), and the campaign's figures say 1 delivered, 2 stopped."""
    books, records, queue = MemoryBooks(PROGRAM), MemoryCampaigns(), MemoryQueue()
    telegram = MemoryTelegram()
    for member in ("1001", "1002", "1003"):
        books.join(member, int(member), "ru")
        telegram.open(int(member))
    read = ConsoleRead(PROGRAM, office.table)
    run = Campaigns(PROGRAM, books, records, Touches(PROGRAM, books, records, queue),
                    ConsoleRead(PROGRAM, office.table).program)
    withdrawals = MemoryQueue()
    sender = CampaignSender(telegram, MemoryOnce("message", lambda message: message.touch), MemoryPace(), records,
                            books, withdrawals, stopped=read.stopped)
    news = {"title": "Новинка", "kind": "broadcast", "at": NOW.isoformat(), "messages": {"ru": {"text": "Новинка!"}},
            "bonus": {"points": 100, "expires_in_days": 7}}
    office.save("news", news, {"subscribed": True})
    office.composer.launch(SESSION, MARKETER, "news", NOW)
    assert run.run(NOW)["news"] == 3
    first, *rest = queue.messages
    monkeypatch.setattr(clock, "now", lambda: NOW)
    sender.handle_record(record(first))
    office.composer.stop(SESSION, MARKETER, "news", NOW + timedelta(seconds=10))
    monkeypatch.setattr(clock, "now", lambda: NOW + timedelta(seconds=70))  # read at NOW: a minute on, read again
    for message in [*rest, *rest]:  # each once more: SQS redelivers
        sender.handle_record(record(message))
    sent = {chat: len(messages) for chat, messages in telegram.chats.items() if messages}
    assert sent == {first.chat_id: 1}
    stats = records.stats("news")
    assert (stats["audience"], stats["delivered"], stats["stopped"]) == (3, 1, 2)
    # the two who never got it lose the bonus it paid (once each, the redeliveries withdraw nothing more)
    assert sorted(message.member_id for message in withdrawals.messages) == sorted(m.member_id for m in rest)


def test_a_console_win_back_step_reaches_a_member_n_days_after_their_last_purchase_and_its_goal_is_a_channel(
        office: Office) -> None:
    world = World()
    run = Campaigns(PROGRAM, world.books, world.campaigns, Touches(PROGRAM, world.books, world.campaigns,
                                                                   world.campaign_queue, world.books),
                    ConsoleRead(PROGRAM, office.table).program)
    anna = world.join("1201")
    world.buy(anna, channel="d2c", now=NOW, purchased_at=NOW)
    step = {"after_days": 14, "messages": {"ru": {"text": "Скучаем, {first_name:друг}!"}}}
    office.save("miss_you", {"title": "Скучаем", "kind": "winback", "goal": {"within_days": 7, "channel": "d2c"},
                             "steps": [step]}, {"subscribed": True})
    office.composer.launch(SESSION, MARKETER, "miss_you", NOW)
    run.run(NOW + timedelta(days=13))
    assert "Скучаем, друг!" not in world.campaign_texts(anna)
    run.run(NOW + timedelta(days=14, hours=1))
    assert world.campaign_texts(anna)[-1] == "Скучаем, друг!"
    (message,) = [m for m in world.campaign_queue.messages if m.campaign == "miss_you"]
    assert (message.goal_days, message.goal_channel) == (7, "d2c")  # only the brand's site converts it
