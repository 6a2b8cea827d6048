"""Follow-ups after a receipt on moto: which onboarding branch a first receipt starts, which nudges a channel
starts (to the site, and between marketplaces), and when a due nudge or survey is sent or skipped for good."""

from datetime import UTC, datetime, timedelta

import pytest
import yaml

from loyalty.adapters.bot_table import BotTable
from loyalty.adapters.campaign_store import CampaignStore
from loyalty.adapters.ledger import LedgerRepository
from loyalty.adapters.members import MembersRepository
from loyalty.adapters.queues import SqsQueue
from loyalty.contracts import PurchaseLine, ReceiptAccepted, Shopper
from loyalty.domain import postings
from loyalty.domain.ledger import Kind
from loyalty.domain.program import Program
from loyalty.flows.campaigns import Touches
from loyalty.flows.followups import FollowUps
from loyalty.flows.ports import FollowUpStore
from loyalty_tools.local.stack import LocalStack
from tests.conftest import ROOT
from tests.fakes import STACK_KEY
from tests.integration.conftest import bodies

PROGRAM = Program.model_validate(yaml.safe_load((ROOT / "program" / "program.yaml").read_text(encoding="utf-8")))
NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)


@pytest.fixture
def followups(stack: LocalStack) -> FollowUps:
    ledger = LedgerRepository("LedgerTable", "MembersTable")
    touches = Touches(PROGRAM, ledger, CampaignStore("CampaignsTable"),
                      SqsQueue(stack.template.queue_url("CampaignQueue")))
    return FollowUps(PROGRAM, BotTable("BotTable"), ledger, touches, "https://api.example", STACK_KEY)


def accepted(member_id: str, channel: str, kind: str, fiscal_key: str) -> ReceiptAccepted:
    return ReceiptAccepted(submission_id=fiscal_key, shopper=Shopper(member_id=member_id, chat_id=int(member_id),
                                                                      language="ru"),
                           fiscal_key=fiscal_key, channel=channel, channel_kind=kind, store=channel,
                           brand_sum_kopecks=45_000, lines=(PurchaseLine(name="Крем", sum_kopecks=45_000),))


def start(followups: FollowUps, first_purchase: bool, receipt: ReceiptAccepted, at: datetime) -> int:
    """Keep the follow-ups a receipt starts (the accrual writes them in its ledger transaction: test_fakes_behave
    holds that); how many were new."""
    return sum(followups.table.schedule(followup) for followup in followups.planned(receipt, at, first_purchase))


def due(table: FollowUpStore, at: datetime) -> list[tuple[str, str, int]]:
    return sorted((f.kind, f.name, f.step) for f in table.due(at))


def test_a_first_receipt_starts_its_channels_branch_and_its_nudges_once(followups: FollowUps) -> None:
    MembersRepository("MembersTable").join("901", 901, "ru")
    wb = accepted("901", "wildberries", "marketplace", "fk-1")
    assert start(followups, True, wb, NOW) == 4  # two onboarding steps, the nudge, the survey
    assert start(followups, True, wb, NOW) == 0  # the receipt redelivered: nothing twice
    assert due(followups.table, NOW + timedelta(hours=2)) == [("onboarding", "marketplace", 0)]
    assert due(followups.table, NOW + timedelta(hours=80)) == [
        ("nudge", "to_site", 0), ("onboarding", "marketplace", 0), ("onboarding", "marketplace", 1),
        ("survey", "survey", 0)]
    ym = accepted("901", "yandex_market", "marketplace", "fk-2")
    start(followups, False, ym, NOW)  # not the first receipt: no onboarding; Ozon's nudge too
    names = {f.name for f in followups.table.due(NOW + timedelta(hours=200)) if f.kind == "nudge"}
    assert names == {"to_site", "ym_to_ozon"}
    shop = accepted("902", "golden_apple", "retail", "fk-3")
    start(followups, True, shop, NOW)
    assert {(f.kind, f.name) for f in followups.table.due(NOW + timedelta(days=5)) if f.member_id == "902"} == {
        ("onboarding", "retail"), ("survey", "survey")}  # no nudge after a shop


def test_a_nudge_waits_its_days_between_sends_and_stops_for_good(stack: LocalStack, followups: FollowUps) -> None:
    MembersRepository("MembersTable").join("903", 903, "ru")
    followups.ledger.apply("903", "bonus#welcome", Kind.BONUS, lambda wal: postings.bonus(
        PROGRAM, wal, "bonus#welcome", 100, "приветственный бонус", NOW), now=NOW)  # the nudge names a balance
    table = followups.table
    for n, day in enumerate((0, 10, 31)):
        start(followups, n == 0, accepted("903", "ozon", "marketplace", f"fk-9{n}"),
                                NOW + timedelta(days=day))
    outcomes = []
    for day in (3, 13, 34):
        at = NOW + timedelta(days=day)
        outcomes.append([followups.send(f, at) for f in table.due(at) if f.kind == "nudge"])
    assert outcomes == [["sent"], ["skipped"], ["sent"]]  # every_days: 30
    sent = [body for body in bodies(stack, "CampaignQueue") if body["campaign"] == "to_site"]
    link = sent[0]["reply_markup"]["inline_keyboard"][0][0]["url"]
    assert link.startswith("https://api.example/go/") and sent[0]["goal_channel"] == "d2c"
    assert sent[0]["reply_markup"]["inline_keyboard"][1][0] == {"text": "Не интересно",
                                                               "callback_data": "nudge_off:to_site"}
    assert table.stop_nudge("903", "to_site", NOW) and not table.stop_nudge("903", "to_site", NOW)
    start(followups, False, accepted("903", "ozon", "marketplace", "fk-99"), NOW + timedelta(days=70))
    at = NOW + timedelta(days=75)
    assert [followups.send(f, at) for f in table.due(at) if f.kind == "nudge"] == ["skipped"]
    assert list(f for f in table.due(at) if f.kind == "nudge") == []  # skipped for good: out of the due index


def test_nothing_reaches_a_member_who_said_stop(stack: LocalStack, followups: FollowUps) -> None:
    members = MembersRepository("MembersTable")
    members.join("904", 904, "ru")
    start(followups, True, accepted("904", "wildberries", "marketplace", "fk-4"), NOW)
    members.unsubscribe("904")
    at = NOW + timedelta(days=4)
    assert sorted(followups.run(at).items()) == [("skipped", 4)]
    assert bodies(stack, "CampaignQueue") == []
