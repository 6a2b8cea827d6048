"""Campaign facts on moto: written with the accrual's own transaction, indexed by last purchase, and rebuilt
from the ledger by `loyalty members backfill-facts` for members from before there were facts."""

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from loyalty import clock
from loyalty.adapters.dynamo import from_item, to_item
from loyalty.adapters.ledger import ledger_for
from loyalty.adapters.members import LAPSE_INDEX, MembersRepository
from loyalty.contracts import PurchaseLine, ReceiptAccepted, Shopper
from loyalty.settings import PointAccrualSettings
from loyalty.wiring.accrual import point_accrual
from loyalty_tools import ledger_cli, members_cli
from loyalty_tools.local.stack import LocalStack
from tests.conftest import TEST_PROGRAM
from tests.unit.flows.conftest import PROGRAM

BOUGHT = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)


def buy(stack: LocalStack, member_id: str, fiscal_key: str, category: str) -> None:
    accrual = point_accrual(PointAccrualSettings.model_validate(
        {**stack.functions.environment("PointAccrualFunction"), "PROGRAM_FILE": str(TEST_PROGRAM)}))()
    shopper = Shopper(member_id=member_id, chat_id=int(member_id), language="ru")
    accrual.accrue(ReceiptAccepted(
        submission_id=f"tg-update:{fiscal_key}", shopper=shopper,
        fiscal_key=fiscal_key, channel="ozon", channel_kind="marketplace", store="Ozon", brand_sum_kopecks=120_000,
        lines=(PurchaseLine(name="Крем", sum_kopecks=120_000, category=category),), issued_at=BOUGHT))


def item(stack: LocalStack, member_id: str) -> dict[str, Any]:
    return from_item(stack.aws("dynamodb").get_item(TableName="MembersTable", Key=to_item({"member_id": member_id}),
                                                    ConsistentRead=True)["Item"])


def lapsed_between(stack: LocalStack, start: datetime, end: datetime) -> list[Any | str]:
    found = []
    for shard in range(8):
        found += [from_item(found)["member_id"] for found in stack.aws("dynamodb").query(
            TableName="MembersTable", IndexName=LAPSE_INDEX,
            KeyConditionExpression="lapse_shard = :s AND last_purchase_at BETWEEN :a AND :b",
            ExpressionAttributeValues=to_item({":s": shard, ":a": clock.stamp(start), ":b": clock.stamp(end)}),
        )["Items"]]
    return found


def test_a_purchase_writes_its_facts_and_the_lapse_index_in_its_own_transaction(stack: LocalStack) -> None:
    MembersRepository("MembersTable").join("851", 851, "ru")
    buy(stack, "851", "1:1:1", "care")
    stored = item(stack, "851")
    assert stored["last_purchase_at"] == "2026-11-20T15:30:00.000+00:00"
    assert lapsed_between(stack, BOUGHT - timedelta(days=1), BOUGHT + timedelta(days=1)) == ["851"]
    assert lapsed_between(stack, BOUGHT + timedelta(minutes=1), BOUGHT + timedelta(days=1)) == []
    facts = ledger_for(PROGRAM, "LedgerTable", "MembersTable").read("851")[0].facts
    assert (facts.receipts, facts.spend_kopecks, facts.categories, facts.last_channel) == (1, 120_000, ("care",),
                                                                                          "ozon")


def test_backfill_rebuilds_the_facts_of_members_from_before_and_a_second_run_changes_nothing(stack: LocalStack) -> None:
    MembersRepository("MembersTable").join("852", 852, "ru")
    buy(stack, "852", "1:2:1", "care")
    buy(stack, "852", "1:2:2", "face")
    books = ledger_for(PROGRAM, "LedgerTable", "MembersTable")
    expected = books.read("852")[0].facts
    old = json.loads(item(stack, "852")["wallet"])
    del old["facts"]  # as the wallet was before facts were kept
    stack.aws("dynamodb").update_item(
        TableName="MembersTable", Key=to_item({"member_id": "852"}),
        UpdateExpression="SET wallet = :w REMOVE last_purchase_at, lapse_shard",
        ExpressionAttributeValues=to_item({":w": json.dumps(old)}))
    assert books.read("852")[0].facts.receipts == 0 and lapsed_between(stack, BOUGHT, BOUGHT) == []

    for rebuilt in (1, 0):
        out = io.StringIO()
        assert members_cli.backfill_facts("MembersTable", "LedgerTable", TEST_PROGRAM, out) == 0
        assert json.loads(out.getvalue()) == {"members": 1, "rebuilt": rebuilt, "unchanged": 1 - rebuilt}
    assert books.read("852")[0].facts == expected and lapsed_between(stack, BOUGHT, BOUGHT) == ["852"]
    assert ledger_cli.verify("MembersTable", "LedgerTable", io.StringIO()) == 0  # balances untouched



def test_export_streams_every_member_with_level_and_balances_as_csv_or_json_lines(stack: LocalStack) -> None:
    members = MembersRepository("MembersTable")
    members.join("881", 881, "ru")
    members.save_phone("881", "+79160000881")
    buy(stack, "881", "1:81:1", "care")  # 120 points at the entry level's 10%
    members.join("882", 882, "en", via="insert:wb")  # no phone yet, no points; came from a Wildberries insert
    out = io.StringIO()
    assert members_cli.export("MembersTable", out) == 0
    rows = sorted(csv.DictReader(io.StringIO(out.getvalue())), key=lambda row: row["telegram_id"])
    assert rows == [
        {"phone": "+79160000881", "telegram_id": "881", "level": "", "available": "120", "pending": "0", "held": "0",
         "source": "organic"},
        {"phone": "", "telegram_id": "882", "level": "", "available": "0", "pending": "0", "held": "0",
         "source": "insert:wb"}]
    out = io.StringIO()
    members_cli.export("MembersTable", out, output_format="jsonl")
    assert sorted(json.loads(line)["telegram_id"] for line in out.getvalue().splitlines()) == [881, 882]
