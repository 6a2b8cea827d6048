"""`loyalty report` against the local stack: what shoppers did through the bot, read back from the books."""

import json
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest

from loyalty.adapters.dynamo import from_item
from loyalty_tools.local.stack import LocalStack
from tests.e2e.journeys import CREAM, SERUM, buy, join, loyalty, morning, schedule_until, seed_stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with seed_stack() as stack:
        yield stack


def test_the_report_shows_members_revenue_by_channel_and_points_as_the_books_hold_them(stack: LocalStack) -> None:
    start = morning(stack)
    anna = join(stack, "/start wb", name="Анна")  # a Wildberries insert card
    buy(stack, anna, CREAM)  # Wildberries, 450 ₽
    reached = schedule_until(stack, anna, "На сайте Лепесток", start + timedelta(hours=73))  # the nudge reaches her …
    stack.travel(reached + timedelta(hours=1))
    buy(stack, anna, SERUM, d2c=True)  # … and she buys there, 1,290 ₽: the nudge's conversion
    boris = join(stack, name="Борис")
    buy(stack, boris, CREAM)

    code, out, err = loyalty(stack, "report", "--json")
    assert code == 0, err
    report = json.loads(out)
    dynamodb = stack.aws("dynamodb")
    members = [from_item(item) for item in dynamodb.scan(TableName="MembersTable")["Items"]]
    books = [from_item(item) for item in dynamodb.scan(TableName="LedgerTable")["Items"]]
    assert report["members"] == report["members_with_phone"] == report["members_subscribed"] == 2
    assert report["joined_in_period"] == {"insert:wb": 1, "organic": 1}
    assert (report["receipts"], report["buyers"], report["repeat_buyers"]) == (3, 2, 1)
    assert report["revenue_kopecks"] == 45_000 + 129_000 + 45_000
    assert report["by_channel"]["wildberries"] == {"receipts": 2, "buyers": 2, "revenue_kopecks": 90_000}
    assert report["by_channel"]["d2c"] == {"receipts": 1, "buyers": 1, "revenue_kopecks": 129_000}
    assert report["moved_to_site"] == 1
    assert report["points_given"]["purchases"] == sum(e["points"] for e in books if e["kind"] == "accrual")
    assert report["points_given"]["welcome"] == 200
    assert report["liability_points"] == sum(m.get("available", 0) + m.get("pending", 0) + m.get("held", 0)
                                             for m in members)
    nudge = report["campaigns_all_time"]["to_site"]
    assert (nudge["delivered"], nudge["converted"], nudge["revenue_kopecks"]) == (1, 1, 129_000)
    code, stats, _ = loyalty(stack, "campaign", "stats", "to_site", "--json")
    assert {k: v for k, v in json.loads(stats).items() if k in nudge} == nudge  # the same counters as stats

    code, text, _ = loyalty(stack, "report", "--since", (start + timedelta(days=10)).isoformat())
    assert code == 0
    assert "Покупки: 0 чеков, 0 покупателей" in text  # nothing bought since …
    assert "Участники: 2" in text  # … and the members are as of now
    code, text, _ = loyalty(stack, "report")
    assert "Покупки: 3 чека, 2 покупателя, купили снова 1 (50\u00a0%)" in text
    assert "Wildberries" in text and "купили на сайте после маркетплейса: 1" in text
    # The marketer's words, not ids: where members came from and the campaigns by their titles; shares as Russian
    # writes them.
    assert "пришли за период: 2 — вкладыш Wildberries (wb) 1, сами нашли бота 1" in text
    assert "С маркетплейса на сайт бренда" in text and "to_site" not in text and "organic" not in text
    assert re.search(r"\d+,\d\u00a0% выручки", text), text
    assert "+7916" not in text  # no personal data in what a marketer forwards
