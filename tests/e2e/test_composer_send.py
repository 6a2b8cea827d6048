"""A console broadcast sent and stopped, in headless Chromium on the local stack, under simulated time: launched at
night it waits for the morning (quiet hours) and a member who had the week's letters is held (caps); in the
morning it goes out through the Telegram emulator at Telegram's pace; the marketer stops it mid-send, and within a
minute nothing more goes: nobody gets it twice, and its page says how many got it."""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from playwright.sync_api import Browser

from loyalty import clock
from loyalty.adapters.dynamo import to_item
from loyalty.domain.facts import Facts
from loyalty.domain.receipt import MOSCOW
from loyalty.domain.wallet import Wallet
from loyalty_tools.local.demo import console_link
from loyalty_tools.local.stack import LocalStack
from tests.e2e.journeys import next_run, seed_stack
from tests.e2e.test_composer_results import stats
from tests.e2e.test_console_page import new_page

pytestmark = pytest.mark.e2e

OWNER = 6_200_001
AUDIENCE = 40
CAPPED = 8_400_000  # had five campaign letters this week: the week's cap
NEWS = "Новая коллекция уже на сайте."


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with seed_stack(parameter_overrides={"ConsoleOwnerTelegramId": str(OWNER)}) as stack:
        yield stack


def regulars(stack: LocalStack) -> list[int]:
    """Members the composer's default segment reaches (more than 5 purchases, 1,000–1,200 ₽ on average)."""
    dynamodb, now = stack.aws("dynamodb"), stack.now()
    facts = Facts(receipts=6, spend_kopecks=6 * 110_000, first_purchase_at=now - timedelta(days=200),
                  last_purchase_at=now - timedelta(days=10))
    members = [8_400_000 + n for n in range(AUDIENCE)]
    for member in members:
        dynamodb.put_item(TableName="MembersTable", Item=to_item({
            "member_id": str(member), "chat_id": member, "language": "ru", "version": 0,
            "joined_at": clock.stamp(now - timedelta(days=200)), "wallet": Wallet(facts=facts).model_dump_json()}))
        stack.telegram.state.transcripts.setdefault(member, [])
    dynamodb.put_item(TableName="BotTable", Item={"pk": {"S": f"contact#{CAPPED}"}, "sk": {"S": "sent"}, "sent": {
        "SS": [f"m:{clock.stamp(now - timedelta(days=day, hours=1))}" for day in range(1, 6)]}})
    return members


def received(stack: LocalStack) -> dict[int, int]:
    """How many times each chat got the news."""
    with stack.telegram.state.lock:
        return {chat: count for chat, transcript in stack.telegram.state.transcripts.items()
                if (count := sum(entry.get("text") == NEWS for entry in transcript))}


def test_a_console_broadcast_waits_out_the_night_and_the_caps_goes_at_telegrams_pace_and_stops_mid_send(
        stack: LocalStack, browser: Browser) -> None:
    night = (stack.now() + timedelta(days=1)).astimezone(MOSCOW).replace(hour=23, minute=5, second=0, microsecond=0)
    stack.travel(night)
    members = regulars(stack)
    sender = stack.poller("CampaignQueue")

    page = new_page(browser)
    page.goto(console_link(stack, OWNER, "Анна"))
    page.wait_for_selector("#campaigns:not([hidden])")
    page.select_option("#campaign-kind", "broadcast")
    page.fill("#campaign-title", "Новая коллекция")
    page.fill("#campaign-name", "collection")
    for field, value in (("#bonus-multiplier", "1"), ("#campaign-holdout", "0"), ("#campaign-text", NEWS)):
        page.fill(field, value)
    # at night, the contact policy holds everyone back (the quiet hours); the capped member besides
    page.wait_for_selector(f"#campaign-reach:has-text('написать можно {AUDIENCE}. Политика контактов придержит "
                           f"{AUDIENCE}')")
    page.click("#campaign-form button:has-text('Сохранить черновик')")
    row = "#campaign-rows tr[data-name='collection']"
    page.click(f"{row} button:has-text('Запустить')")
    page.wait_for_selector(f"{row}:has-text('идёт')")

    for _ in range(2):  # the run writes the letters; the postman holds them: it is night
        next_run(stack)
    assert received(stack) == {} and stats(stack, "collection")["held"] >= AUDIENCE

    sender.stop()  # the morning's messages wait in CampaignQueue: the test hands them to the sender
    stack.backlogged.add("CampaignQueue")
    rejected = stack.telegram.state.limits.rejected
    stack.travel(night.replace(hour=10, minute=0) + timedelta(days=1))
    for _ in range(2):
        next_run(stack)
    queued = stack.queue_depth("CampaignQueue")
    assert queued == AUDIENCE - 1  # everyone but the capped member, whose letter waits for the cap
    with ThreadPoolExecutor(1) as apart:  # one batch goes out (off this thread: Playwright's event loop runs on it)
        first = apart.submit(sender.poll_once).result()
    assert 0 < first < queued and len(received(stack)) == first

    page.goto(console_link(stack, OWNER, "Анна"))  # the night's session ran out: signed in again in the morning
    page.click(f"{row} button:has-text('Остановить')")
    page.wait_for_selector(f"{row}:has-text('остановлена')")
    stack.travel(stack.now() + timedelta(minutes=1))  # a stop reaches the sender within a minute
    stack.backlogged.discard("CampaignQueue")
    sender.start()
    stack.wait_idle()
    next_run(stack)  # the capped member's letter: the campaign is stopped, so it never goes

    got = received(stack)
    assert len(got) == first and set(got.values()) == {1}  # nothing after the stop, nobody twice
    assert CAPPED not in got and set(got) <= set(members)
    assert stack.telegram.state.limits.rejected == rejected  # never past Telegram's limits
    figures = stats(stack, "collection")
    assert (figures["delivered"], figures["stopped"]) == (first, queued - first)

    page.click(f"{row} button:has-text('Итоги')")
    page.wait_for_selector("#campaign-results:not([hidden])")
    assert f"Доставлено\t{first}" in page.inner_text("#results-rows")
    assert "остановлена" in page.inner_text("#results-title")
