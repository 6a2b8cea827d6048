"""/delete forgets the person everywhere: after a member lived a full life in the program (invited by a friend, a
receipt, its onboarding, a nudge's link opened, a complaint answered by the staff, a win-back offer) and deleted their
account, no table and not the CRM holds their Telegram id, their phone or their name."""

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from loyalty.adapters.dynamo import from_item
from loyalty_tools.local.shopper import Shopper, StaffChat
from loyalty_tools.local.stack import LocalStack
from tests.conftest import present
from tests.e2e.journeys import CREAM, PROGRAM, buy, join, loyalty, morning, schedule, schedule_until, seed_stack

STAFF = present(PROGRAM.bot.staff_chat_id)


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with seed_stack() as stack:
        stack.travel(datetime(2026, 12, 1, 7, 0, tzinfo=UTC))
        stack.telegram.limit(chat_burst=100)
        yield stack


def everything_kept(stack: LocalStack) -> dict[str, list[dict[str, Any]]]:
    """Every item of every table of the stack, and the CRM's records."""
    dynamodb = stack.aws("dynamodb")
    kept = {name: [from_item(item) for page in dynamodb.get_paginator("scan").paginate(TableName=name)
                   for item in page["Items"]]
            for name in dynamodb.list_tables()["TableNames"]}
    return kept | {"mindbox": [stack.mindbox.state()]}


def traces(kept: dict[str, list[dict[str, Any]]], *personal: str) -> list[str]:
    """Where any of `personal` (as a whole word or number) still appears."""
    found = []
    patterns = [re.compile(rf"(?<![0-9A-Za-zА-Яа-я]){re.escape(value)}(?![0-9A-Za-zА-Яа-я])") for value in personal]
    for table, items in kept.items():
        for item in items:
            text = json.dumps(item, ensure_ascii=False, default=str)
            found += [f"{table}: {text[:300]}" for pattern in patterns if pattern.search(text)]
    return found


def open_link(url: str) -> None:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any) -> None:
            return None

    with pytest.raises(urllib.error.HTTPError):
        urllib.request.build_opener(NoRedirect).open(url, timeout=10)


def test_after_delete_no_table_and_not_the_crm_holds_the_persons_id_phone_or_name(stack: LocalStack) -> None:
    staff = StaffChat(stack.telegram.url, STAFF)
    morning(stack)
    friend = join(stack, name="Ольга")
    friend.say("/invite")
    stack.wait_idle()
    code = present(re.search(r"start=ref_([A-Z0-9]+)", friend.bot_messages()[-1])).group(1)
    vika = Shopper(stack.telegram.url, user_id=7_123_457, first_name="Виктория")
    vika.say(f"/start ref_{code}")
    vika.wait_for_bot_messages(1)
    phone = "+79161234577"
    vika.share_phone(phone)
    stack.wait_idle()
    start = stack.now()
    buy(stack, vika, CREAM)  # a first receipt: the referral paid both sides, follow-ups scheduled
    schedule(stack, start + timedelta(hours=73))  # the survey goes out; the nudge as the contact policy lets it
    schedule_until(stack, vika, "На сайте Лепесток", start + timedelta(hours=74))
    nudge = next(entry for entry in vika.transcript() if "На сайте Лепесток" in str(entry.get("text")))
    open_link(nudge["reply_markup"]["inline_keyboard"][0][0]["url"])  # a link click, counted
    vika.tap("1")
    stack.wait_idle()
    vika.say("Крем пришёл открытым")  # a complaint: a ticket in the staff chat
    stack.wait_idle()
    ticket = present(re.search(r"#([A-Z2-9]{10})", staff.bot_messages()[-1])).group(1)
    staff.reply(ticket, "Виктория, простите, пришлём новый")
    stack.wait_idle()
    # lapsed: the win-back ladder's first step reaches her (after the points that became available meanwhile)
    schedule_until(stack, vika, "Давно не виделись", start + timedelta(days=35))
    kept = everything_kept(stack)
    personal = (str(vika.chat_id), phone.removeprefix("+"), phone.removeprefix("+7"), "Виктория")
    assert len(traces(kept, *personal)) > 5  # the scan finds what is there

    vika.say("/delete")
    stack.wait_idle()
    vika.tap("Удалить навсегда")
    stack.wait_idle()
    schedule(stack, start + timedelta(days=36))
    left = traces(everything_kept(stack), *personal)
    assert left == [], "\n".join(left)
    status, out, err = loyalty(stack, "ledger", "verify")
    assert status == 0, out + err
