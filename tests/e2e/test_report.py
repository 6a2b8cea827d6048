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

    stack.wait_idle()  # the figures function has read the tables' streams
    code, out, err = loyalty(stack, "report", "--json")
    assert code == 0, err
    report = json.loads(out)["figures"]
    dynamodb = stack.aws("dynamodb")
    members = [from_item(item) for item in dynamodb.scan(TableName="MembersTable")["Items"]]
    books = [from_item(item) for item in dynamodb.scan(TableName="LedgerTable")["Items"]]
    assert report["members"] == 2 and report["joined"] == {"insert:wb": 1, "organic": 1}
    assert report["receipts"] == {"wildberries": 2, "d2c": 1}
    assert (report["buyers"], report["repeat_buyers"]) == (2, 1)  # Анна bought on two days
    assert report["revenue_kopecks"] == {"wildberries": 90_000, "d2c": 129_000}
    assert report["moved_to_site"] == 1
    accruals = [e for e in books if e["kind"] == "accrual"]
    # what a receipt completed (Анна's «Два магазина» and «Первый заказ на сайте») is counted apart from its points
    assert report["given"]["challenges"] == sum(e["details"].get("challenge_points", 0) for e in accruals) == 350
    assert report["given"]["purchases"] == sum(e["points"] for e in accruals) - 350
    assert report["given"]["welcome"] == 200
    assert report["owed_points"] == sum(m.get("available", 0) + m.get("pending", 0) + m.get("held", 0)
                                        for m in members)
    assert report["campaigns"]["to_site"] == {"delivered": 1, "converted": 1, "revenue": 129_000}
    code, stats, _ = loyalty(stack, "campaign", "stats", "to_site", "--json")
    assert json.loads(stats)["converted"] == 1  # the same conversion as the campaign's own counters

    later = (stack.now() + timedelta(days=10)).date()
    code, text, _ = loyalty(stack, "report", "--since", later.isoformat(), "--until",
                            (later + timedelta(days=7)).isoformat())
    assert code == 0
    assert "  чеков: 0 (0; ±0)" in text  # nothing bought then …
    assert "  участников на конец периода: 2 (2; ±0, ±0\u00a0%)" in text  # … and the members as they were
    code, text, _ = loyalty(stack, "report")
    assert "  чеков: 3 (0; +3)" in text and "  выручка — Wildberries: 900 ₽" in text
    assert "  впервые купили на сайте после маркетплейса: 1" in text
    # The marketer's words, not ids: where members came from and the campaigns by their titles; shares as Russian
    # writes them.
    assert "  пришли: вкладыш Wildberries (wb): 1" in text and "  пришли: сами нашли бота: 1" in text
    assert "С маркетплейса на сайт бренда: доставлено: 1" in text and "to_site" not in text and "organic" not in text
    assert re.search(r"доля повторных покупателей: 50\u00a0%", text), text
    assert "+7916" not in text  # no personal data in what a marketer forwards
    code, table, _ = loyalty(stack, "report", "--csv")
    assert code == 0 and table.splitlines()[0].startswith("Раздел,Показатель,")

