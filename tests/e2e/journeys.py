"""What the end-to-end journeys share: the local stack on the shipped program, and a shopper's and the
brand site's moves on it."""

import contextlib
import itertools
import os
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from loyalty.adapters.dynamo import from_item, to_item
from loyalty.adapters.program_file import load_program
from loyalty.domain.receipt import MOSCOW
from loyalty_tools.local.receipts import marketplace_receipt, qr_of
from loyalty_tools.local.shopper import Shopper
from loyalty_tools.local.site import Site
from loyalty_tools.local.stack import ROOT, LocalStack
from tests.conftest import daytime, deployed

if TYPE_CHECKING:
    from playwright.sync_api import Page

SEED = ROOT / "program" / "program.yaml"
PROGRAM = load_program(SEED)
SUPPLIER = PROGRAM.brand.supplier_inns[0]
BRAND_INN = PROGRAM.brand.inns[0]
CREAM = ("Лепесток крем для рук 50 мл", 45_000, 1)  # 450 ₽: 45 points at 10%, 54 at 12%
SERUM = ("Лепесток сыворотка для лица 30 мл", 129_000, 1)  # face: the seed's 1.5 multiplier
_ids = itertools.count(1)


@contextlib.contextmanager
def seed_stack(change: Callable[[dict[str, Any]], None] | None = None, retry_base_seconds: int = 0,
               **options: Any) -> Iterator[LocalStack]:
    """The local stack on the shipped program, with up to ten receipts a day and room for a journey's receipts sent
    in one real minute (and `change` made to it)."""
    document = yaml.safe_load(SEED.read_text(encoding="utf-8"))
    document["receipts"]["max_per_day"] = 10
    document["fraud"]["submissions"] = {"per_minute": 30, "per_day": 100}
    if change is not None:
        change(document)
    with tempfile.TemporaryDirectory() as tmp:
        program = Path(tmp) / "program.yaml"
        program.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
        with deployed(receipts_dir=Path(tmp), program_file=program, retry_base_seconds=retry_base_seconds,
                      **options) as stack:
            yield stack


def join(stack: LocalStack, start: str = "/start", name: str = "Анна", username: str | None = None) -> Shopper:
    shopper = Shopper(stack.telegram.url, user_id=7_000_000 + next(_ids), first_name=name, username=username)
    shopper.say(start)
    shopper.wait_for_bot_messages(1)
    shopper.share_phone(f"+7916{shopper.chat_id:07d}")
    stack.wait_idle()
    return shopper


def buy(stack: LocalStack, shopper: Shopper, *lines: tuple[str, int, int], d2c: bool = False, operation: int = 1,
        fd: int | None = None) -> dict[str, Any]:
    """Send the QR of a receipt issued an hour ago on the stack's clock (Wildberries, or the brand's own site)
    and let everything settle."""
    seller = {"seller_inn": BRAND_INN, "seller": "ООО «Лепесток»", "retail_place": "lepestok.ru"} if d2c else {}
    raw = marketplace_receipt(SUPPLIER, list(lines or [CREAM]), fd=fd or 10_000 + next(_ids), operation=operation,
                              issued_at=stack.now() - timedelta(hours=1), **seller)
    stack.receipts.add(raw)
    shopper.say(qr_of(raw))
    stack.wait_idle()
    return raw


def member(stack: LocalStack, shopper: Shopper) -> dict[str, Any]:
    item = stack.aws("dynamodb").get_item(TableName="MembersTable", Key=to_item({"member_id": str(shopper.chat_id)}),
                                          ConsistentRead=True)
    return from_item(item["Item"])


def entries(stack: LocalStack, shopper: Shopper) -> dict[str, dict[str, Any]]:
    response = stack.aws("dynamodb").query(TableName="LedgerTable", KeyConditionExpression="member_id = :m",
                                           ExpressionAttributeValues=to_item({":m": str(shopper.chat_id)}))
    return {item["entry_id"]: item for item in map(from_item, response["Items"])}


def morning(stack: LocalStack) -> datetime:
    """Move the stack's clock on to the next 11:00 in Moscow: the letters a test waits for fall due in the day, not in
    the shipped program's quiet hours (21:00–10:00), whatever the hour the suite runs at."""
    local = stack.now().astimezone(MOSCOW)
    at = local.replace(hour=11, minute=0, second=0, microsecond=0)
    stack.travel(at if at > local else at + timedelta(days=1))
    return stack.now()


def schedule_until(stack: LocalStack, shopper: Shopper, text: str, start: datetime, hours: int = 72) -> datetime:
    """Run the schedules hour by hour from `start`, as a deployed stack does, until the shopper is sent a message
    with `text` (the contact policy spaces letters out): the moment it went."""
    for hour in range(hours + 1):
        at = start + timedelta(hours=hour)
        schedule(stack, at)
        if any(text in message for message in shopper.bot_messages()):
            return at
    raise AssertionError(f"no message with {text!r} within {hours} hours of schedules from {start.isoformat()}")


def letter(stack: LocalStack, shopper: Shopper, text: str, hours: int = 72) -> str:
    """The letter with `text` (news the shopper did not ask for: a staff decision, a friend's bonus), once the
    schedules run from the next daytime hour as a deployed stack's would: the message it came in."""
    schedule_until(stack, shopper, text, daytime(stack.now()), hours)
    return next(message for message in reversed(shopper.bot_messages()) if text in message)


def schedule(stack: LocalStack, at: datetime) -> None:
    stack.run_schedules(at=at)
    stack.wait_idle()


def next_run(stack: LocalStack) -> datetime:
    """Move the stack's clock on to the schedules' next run (every 15 minutes, on the quarter hour) and run them
    there: the moment. A run "now" might not see what was written in its second: a schedule's event tells the time
    in whole seconds, as EventBridge's does."""
    now = stack.now()
    at = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0) + timedelta(minutes=15)
    stack.travel(at)
    schedule(stack, at)
    return at


def api(stack: LocalStack, path: str, body: dict[str, Any] | None = None, key: str = "",
        api_key: str | None = None) -> tuple[int, Any]:
    """The brand's site calling the redemption API (with another key, or none, when `api_key` is given)."""
    return Site(stack.api.url, stack.api_key if api_key is None else api_key).post(path, body, idempotency_key=key)


def loyalty(stack: LocalStack, *args: str) -> tuple[int, str, str]:
    """The operator's command (`loyalty …`) against the local stack's tables, through the CLI's `main(argv)`."""
    return stack.operator(*args)


def texts(shopper: Shopper) -> list[str]:
    return shopper.bot_messages()


def shoot(page: "Page", name: str, section: str | None = None) -> None:
    """A page test's screenshot into docs/ (`make screenshots`, SCREENSHOTS=1): the whole page, or one `section`."""
    if os.environ.get("SCREENSHOTS"):
        if section is not None:
            page.locator(section).screenshot(path=str(ROOT / "docs" / name))
        else:
            page.screenshot(path=str(ROOT / "docs" / name), full_page=True)
