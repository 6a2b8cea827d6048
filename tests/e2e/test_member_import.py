"""`loyalty members import` on the local stack, run as an operator runs it: a file with bad rows is imported
with every bad row reported, a re-run changes nothing, and an imported shopper who then joins the bot with the
same phone is the same member with the same balance and level."""

import csv
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from loyalty_tools.local.shopper import Shopper
from loyalty_tools.local.stack import LocalStack
from tests.e2e.journeys import loyalty, seed_stack

pytestmark = pytest.mark.e2e

ROWS = [
    # phone, telegram_id, name, points, points_expire_on, level, an extra column the old system had
    ("8 (916) 555-01-01", "", "Анна", "1200", "{expiry}", "Ценитель", "gold"),  # phone only
    ("+79165550102", "7200002", "Борис", "300", "", "", ""),  # with a Telegram id
    ("12345", "", "Вера", "10", "", "", ""),  # bad phone
    ("+7 916 555 01 01", "", "Анна-2", "5", "", "", ""),  # the same phone as row 2
    ("+79165550105", "", "Гена", "-5", "", "", ""),  # negative balance
    ("+79165550106", "", "Дина", "50", "", "platinum", ""),  # unknown level
    ("+79165550107", "abc", "Ева", "50", "", "", ""),  # bad Telegram id
]


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with seed_stack() as stack:
        yield stack


def member(stack: LocalStack, member_id: str) -> dict[str, Any]:
    from loyalty.adapters.dynamo import from_item, to_item

    item = stack.aws("dynamodb").get_item(TableName="MembersTable", Key=to_item({"member_id": member_id}),
                                          ConsistentRead=True)
    return from_item(item["Item"])


def ledger_size(stack: LocalStack) -> int:
    return int(stack.aws("dynamodb").scan(TableName="LedgerTable", Select="COUNT")["Count"])


def test_import_reports_bad_rows_reruns_without_change_and_the_shopper_joins_with_the_balance(
        stack: LocalStack, tmp_path: Path) -> None:
    expiry = (stack.now() + timedelta(days=90)).date().isoformat()
    source = tmp_path / "old-loyalty.csv"
    with source.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["phone", "telegram_id", "name", "points", "points_expire_on", "level", "card"])
        writer.writerows([cell.format(expiry=expiry) for cell in row] for row in ROWS)

    code, out, err = loyalty(stack, "members", "import", str(source))
    summary = json.loads(out)
    assert code == 1  # some rows were rejected
    assert {k: summary[k] for k in ("rows", "imported", "unchanged", "rejected")} == {
        "rows": 7, "imported": 2, "unchanged": 0, "rejected": 5}
    assert "row/s" in err  # the progress bar, with its rate
    with open(summary["report"], encoding="utf-8") as report:
        reasons = {int(row["row"]): row["reason"] for row in csv.DictReader(report)}
    assert sorted(reasons) == [4, 5, 6, 7, 8]
    assert reasons[4].startswith("bad phone") and reasons[5] == "duplicate phone: row 2 has it"
    assert reasons[6] == "negative balance -5" and reasons[7].startswith("unknown level 'platinum'")
    assert reasons[8].startswith("bad telegram_id")
    anna = member(stack, "phone:+79165550101")
    assert (anna["available"], anna["level"], anna["name"]) == (1200, "connoisseur", "Анна")
    assert member(stack, "7200002")["available"] == 300
    entries = ledger_size(stack)
    assert loyalty(stack, "ledger", "verify")[0] == 0

    code, out, _ = loyalty(stack, "members", "import", str(source))  # again: nothing changes
    assert {k: json.loads(out)[k] for k in ("imported", "unchanged", "rejected")} == {
        "imported": 0, "unchanged": 2, "rejected": 5}
    assert ledger_size(stack) == entries

    shopper = Shopper(stack.telegram.url, user_id=7_300_001)  # Anna, in the bot for the first time
    shopper.say("/start")
    shopper.wait_for_bot_messages(1)
    shopper.share_phone("+79165550101")
    stack.wait_idle()
    anna = member(stack, "7300001")
    assert (anna["available"], anna["level"]) == (1200, "connoisseur")
    assert any("Перенесли 1200" in text or "Перенесли 1 200" in text for text in shopper.bot_messages())
    old = member(stack, "phone:+79165550101")
    assert (old["available"], old["merged_into"], "phone" in old) == (0, "7300001", False)

    boris = Shopper(stack.telegram.url, user_id=7_200_002)  # imported by his Telegram id
    boris.say("/start")
    boris.wait_for_bot_messages(1)
    boris.share_phone("+79165550102")
    stack.wait_idle()
    assert member(stack, "7200002")["available"] == 300  # the same member: no welcome bonus on top
    assert loyalty(stack, "ledger", "verify")[0] == 0
    assert loyalty(stack, "members", "import", str(source))[0] == 1  # and a third run still changes nothing
    assert member(stack, "7300001")["available"] == 1200
