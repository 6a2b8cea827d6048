"""`make bench`: figures, written to bench/results.json, each next to a baseline measured in the same run.

- cold import of each function's module, as a ratio to `import boto3` (fresh interpreters, alternating rounds, median
  of N), against its budget, with what it imports beyond boto3;
- AWS requests per receipt end to end, counted at the moto server, by service and operation;
- receipts per second through the local stack, next to moto's own PutItem rate (the floor under it);
- the ledger on one hot member: entries per second with 20 concurrent writers against one writer, and the
  transactions each entry took (the losers of a race retry);
- the points schedule: DynamoDB requests per run against the members it had to settle (the due index
  means the idle members cost nothing);
- what a purchase earns: `earning.purchase_credit` (rate, rules, caps, dates, referral: what the ledger and
  `receipt explain` share) and a whole explanation, per receipt, against the bare points arithmetic;
- `make demo` end to end, against starting and stopping the local stack alone;
- campaign selection: DynamoDB items a win-back run reads per member it targets (5,000 targets among 10,000
  and 100,000 members, measured; 1,000,000 extrapolated from the measured cost per item read), next to what a
  scan would read;
- campaign sending: messages a second through the paced sender to the Telegram emulator (which enforces
  Telegram's 30/s), its 429s, and how long a transactional message takes during a broadcast against the same
  message with nothing else sending;
- CRM sync: SQS messages and CRM events per accepted receipt (the goal: one message carrying all of a
  receipt's events), and Mindbox requests per receipt, on the shipped program's Mindbox settings;
- member import: 100,000 rows of another loyalty system's file, rows per second and DynamoDB requests per
  row (first run and re-run), next to moto's own PutItem rate in the same run (the floor under it);
- the bot: DynamoDB requests per menu tap and the webhook's answer time, each against `/help` in the same run, and
  the requests per follow-up (onboarding, nudge, survey) the campaigns run sends;
- the Mini App: its page weight, how soon headless Chromium shows the member's figures (first and warm loads)
  against the same page without its API, and its API's cold import against `import boto3`;
- the brand's report (`loyalty report`) over 5,000 members and 30,000 ledger entries, against a bare scan of the
  same two tables (the floor: the report reads each item once);
- QR decoders on the same generated receipt photos (bench/photos.py);
- the cost model (bench/cost.py): dollars per 1,000 receipts, per 10,000 active members a month, and a deployed
  stack's idle month, at AWS list prices, from the requests and handler seconds measured here, against a 100 ₽ a day
  SaaS;
- letters (bench/letters.py): how many messages 1,000 simulated members got per week of a month, all and marketing
  only, with the contact policy and without it (every letter sent the moment it falls due), and how many of each
  would have come at night.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.cost import cost_figures
from bench.letters import letters_figures
from loyalty.domain.ledger import Kind
from loyalty.domain.wallet import Step, Wallet
from loyalty_tools.local.receipts import marketplace_receipt, qr_of
from loyalty_tools.local.shopper import Shopper
from loyalty_tools.local.stack import ROOT, LocalStack

RESULTS = ROOT / "bench" / "results.json"
PROGRAM = ROOT / "tests" / "data" / "program.yaml"
SUPPLIER = "7700000024"
IMPORT_RUNS = 15
INTRINSIC_RUNS = 5
RECEIPTS = 30
SHOPPERS = 10  # 3 receipts each: within the test program's daily limit

def cold_imports() -> dict[str, object]:
    """Each function's cold import against `import boto3`, alternating runs (loyalty_tools/cold_start.py), with its
    budget: the median wall time's ratio, which the budget is judged by, and the ratio of each module's fastest own
    time, which the test holds; and what it imports beyond boto3, heaviest first."""
    from loyalty_tools import cold_start

    measured = cold_start.measure(rounds=IMPORT_RUNS)
    intrinsic = cold_start.intrinsic(rounds=INTRINSIC_RUNS)
    functions = {}
    for name, seconds in measured.seconds.items():
        ratio = measured.ratio(name)
        functions[name] = {"seconds": round(statistics.median(seconds), 4), "ratio_to_boto3": round(ratio, 2),
                           "importtime_ratio_to_boto3": round(intrinsic.ratio(name), 2),
                           "budget": cold_start.budget(name), "within_budget": ratio <= cold_start.budget(name),
                           "heaviest_beyond_boto3_ms": dict(intrinsic.heaviest_beyond_boto3(name))}
    return {"baseline_import_boto3_seconds": round(statistics.median(measured.baseline_seconds), 4),
            "runs_each": IMPORT_RUNS,
            "python": sys.version.split()[0], "functions": functions,
            "within_budget": sum(1 for figures in functions.values() if figures["within_budget"])}


def local_stack_figures() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as receipts_dir, open(os.devnull, "w") as quiet, LocalStack(
        receipts_dir=Path(receipts_dir), program_file=PROGRAM, log_stream=quiet,
    ) as stack:
        shoppers = [Shopper(stack.telegram.url, user_id=800_000 + n) for n in range(SHOPPERS)]
        for shopper in shoppers:
            shopper.say("/start")
            shopper.share_phone("+79160000000")
        for shopper in shoppers:
            shopper.wait_for_bot_messages(2)
        stack.wait_idle()
        receipts = []
        for n in range(RECEIPTS):
            raw = marketplace_receipt(SUPPLIER, [("Крем", 45000, 1)], fd=10_000 + n)
            stack.receipts.add(raw)
            receipts.append(qr_of(raw))

        before = stack.moto.counter.snapshot()
        start = time.perf_counter()
        for n, qr in enumerate(receipts):
            shoppers[n % SHOPPERS].say(qr)
        per_shopper = 2 + 2 * (RECEIPTS // SHOPPERS)
        for shopper in shoppers:
            shopper.wait_for_bot_messages(per_shopper, timeout=300)
        stack.wait_idle(timeout=120)
        elapsed = time.perf_counter() - start
        delta = stack.moto.counter.snapshot() - before

        # Baseline: moto's own PutItem rate, through the same server, in the same run.
        dynamodb, puts = stack.aws("dynamodb"), 200
        put_start = time.perf_counter()
        for n in range(puts):
            dynamodb.put_item(TableName="IdempotencyTable", Item={"id": {"S": f"bench-{n}"}})
        puts_per_second = puts / (time.perf_counter() - put_start)

    by_caller: dict[str, Counter[str]] = {"functions": Counter(), "plumbing": Counter()}
    for (caller, service, operation), count in delta.items():
        by_caller[caller][f"{service}.{operation}"] += count
    receipts_per_second = RECEIPTS / elapsed
    return {
        "receipts": RECEIPTS,
        "aws_requests_per_receipt": {
            "functions": {op: round(n / RECEIPTS, 2) for op, n in sorted(by_caller["functions"].items())},
            "functions_total": round(sum(by_caller["functions"].values()) / RECEIPTS, 2),
            "event_source_polling_total": round(sum(by_caller["plumbing"].values()) / RECEIPTS, 2),
            "note": "per receipt, from the QR message to the '+N баллов' message, including the "
                    "'чек принят' reply; polling is the emulated Lambda pollers' ReceiveMessage/DeleteMessage",
        },
        "throughput": {
            "receipts_per_second": round(receipts_per_second, 2),
            "baseline_moto_putitem_per_second": round(puts_per_second, 1),
            "putitems_per_receipt_time": round(puts_per_second / receipts_per_second, 1),
            "note": "one invocation at a time, as the local stack runs them: this measures moto as much "
                    "as the code",
        },
    }


LEDGER_ENTRIES = 100


def ledger_figures() -> dict[str, object]:
    import threading
    from datetime import UTC, datetime, timedelta

    from loyalty.adapters.ledger import ledger_for
    from loyalty.adapters.members import MembersRepository
    from loyalty.adapters.program_file import load_program
    from loyalty.domain import wallet

    program = load_program(ROOT / "program" / "program.yaml")
    with open(os.devnull, "w") as quiet, LocalStack(log_stream=quiet) as stack:
        os.environ.update(stack.client_environment())
        books, now = ledger_for(program, "LedgerTable", "MembersTable"), datetime.now(UTC)

        def one_point(lot: str) -> Callable[[Wallet], Step]:
            return lambda wal: wallet.credit(wal, lot, 1, now, now, None)

        def ten_points(available_at: datetime) -> Callable[[Wallet], Step]:
            return lambda wal: wallet.credit(wal, "receipt#x", 10, now, available_at, None)

        def write(member: str, writers: int) -> dict[str, float]:
            MembersRepository("MembersTable").join(member, 1, "ru")
            start, before = threading.Barrier(writers), stack.moto.counter.snapshot()

            def work(n: int) -> None:
                start.wait()
                for k in range(LEDGER_ENTRIES // writers):
                    lot = f"receipt#{n}-{k}"
                    books.apply(member, lot, Kind.ACCRUAL, one_point(lot))

            threads = [threading.Thread(target=work, args=(n,)) for n in range(writers)]
            began = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - began
            transactions = sum(n for (_, service, op), n in (stack.moto.counter.snapshot() - before).items()
                               if op == "TransactWriteItems")
            return {"entries_per_second": round(LEDGER_ENTRIES / elapsed, 1),
                    "transactions_per_entry": round(transactions / LEDGER_ENTRIES, 2)}

        one, twenty = write("bench-1", 1), write("bench-20", 20)

        # The schedule: 200 members, 10 with points past their return window.
        for n in range(200):
            member = f"sched-{n}"
            MembersRepository("MembersTable").join(member, 1, "ru")
            days = 1 if n % 20 == 0 else 30
            books.apply(member, "receipt#x", Kind.ACCRUAL, ten_points(now + timedelta(days=days)))
        before = stack.moto.counter.snapshot()
        stack.run_schedules(at=now + timedelta(days=2))
        dynamodb = sum(n for (caller, service, _), n in (stack.moto.counter.snapshot() - before).items()
                       if caller == "functions" and service == "dynamodb")
    return {
        "one_member": {"entries": LEDGER_ENTRIES, "one_writer": one, "twenty_writers": twenty,
                       "throughput_ratio_twenty_to_one": round(twenty["entries_per_second"] /
                                                               one["entries_per_second"], 2)},
        "schedule": {"members": 200, "due": 10, "dynamodb_requests": dynamodb,
                     "requests_per_due_member": round(dynamodb / 10, 1)},
    }


def earning_figures() -> dict[str, object]:
    import timeit
    from datetime import UTC, datetime
    from decimal import Decimal

    from loyalty.adapters.program_file import load_program
    from loyalty.contracts import PurchaseLine
    from loyalty.domain import wallet
    from loyalty.domain.earning import purchase_credit
    from loyalty.domain.points import purchase_points
    from loyalty.domain.receipt import normalise_one
    from loyalty_tools.receipt_cli import Member, explanation

    program, now = load_program(ROOT / "program" / "program.yaml"), datetime.now(UTC)
    basket = [("Лепесток крем для рук 50 мл", 45_000, 2), ("Лепесток сыворотка для лица 30 мл", 129_000, 1)]
    receipt = normalise_one(marketplace_receipt("7700000017", basket, fd=1))
    lines = [PurchaseLine(name=name, sum_kopecks=price * qty, quantity=str(qty), category=category)
             for (name, price, qty), category in zip(basket, ("care", "face"), strict=True)]
    member = wallet.record(wallet.Wallet(level="friend"), now.date().isoformat(), receipts=4, earned=900)
    runs = 2000

    def per_call(work: Callable[[], object]) -> float:
        return min(timeit.repeat(work, number=runs, repeat=5)) / runs * 1e6

    points = per_call(lambda: purchase_points(lines, program, Decimal(10)))
    credit = per_call(lambda: purchase_credit(program, member, lines, "wildberries", "marketplace", now))
    explained = per_call(lambda: explanation(receipt, program, now, Member(wallet=member)))
    return {"purchase_points_microseconds": round(points, 1), "purchase_credit_microseconds": round(credit, 1),
            "explanation_microseconds": round(explained, 1),
            "credit_to_points_ratio": round(credit / points, 1),
            "explanation_to_points_ratio": round(explained / points, 1)}


def demo_figures() -> dict[str, object]:
    from loyalty_tools.local.demo import run_demo

    with open(os.devnull, "w") as quiet:
        start = time.perf_counter()
        with LocalStack(log_stream=quiet):
            pass
        stack_alone = time.perf_counter() - start
        start = time.perf_counter()
        code = run_demo(quiet)
        demo = time.perf_counter() - start
    return {"exit_code": code, "seconds": round(demo, 1), "baseline_stack_start_stop_seconds": round(stack_alone, 2),
            "ratio_to_stack_start_stop": round(demo / stack_alone, 1)}


CAMPAIGN_TARGETS = 5_000
BROADCAST = 600
SENDERS = 4


def campaign_figures() -> dict[str, object]:
    from datetime import UTC, datetime, timedelta

    from loyalty import clock
    from loyalty.adapters.aws import client
    from loyalty.adapters.campaign_store import CampaignStore
    from loyalty.adapters.dynamo import to_item
    from loyalty.adapters.ledger import due_shard
    from loyalty.adapters.members import MembersRepository
    from loyalty.adapters.program_file import load_program
    from loyalty.domain.facts import Facts
    from loyalty.domain.wallet import Wallet
    from loyalty.flows.campaigns import Campaigns, Touches

    program = load_program(ROOT / "program" / "program.yaml")
    winback = program.campaign("winback")
    assert winback is not None
    now = datetime(2027, 6, 1, 9, tzinfo=UTC)
    figures: dict[str, object] = {}
    with open(os.devnull, "w") as quiet, LocalStack(log_stream=quiet) as stack:
        os.environ.update(stack.client_environment())
        dynamodb = client("dynamodb")
        scanned: list[int] = []
        dynamodb.meta.events.register("after-call.dynamodb.Query",
                                      lambda parsed, **_: scanned.append(int(parsed.get("ScannedCount", 0))))

        def add_members(start: int, count: int) -> None:
            """Members who bought once: the first CAMPAIGN_TARGETS exactly 30 days ago (a day's window), the rest
            spread over the two years before."""
            for first in range(start, start + count, 25):
                items = []
                for n in range(first, min(first + 25, start + count)):
                    bought = now - timedelta(days=30, hours=n % 20) if n < CAMPAIGN_TARGETS else \
                        now - timedelta(days=32 + n % 700)
                    wallet = Wallet(facts=Facts(first_purchase_at=bought, last_purchase_at=bought, receipts=1,
                                                spend_kopecks=100_000))
                    items.append({"PutRequest": {"Item": to_item({
                        "member_id": f"m{n}", "chat_id": 9_000_000 + n, "language": "ru", "version": 1,
                        "joined_at": clock.stamp(bought), "wallet": wallet.model_dump_json(),
                        "last_purchase_at": clock.stamp(bought), "lapse_shard": due_shard(f"m{n}")})}})
                dynamodb.batch_write_item(RequestItems={"MembersTable": items})

        flow = Campaigns(program, MembersRepository("MembersTable"), CampaignStore("CampaignsTable"),
                         Touches(program, None, CampaignStore("CampaignsTable"), None))  # type: ignore[arg-type]
        store, selection, loaded = CampaignStore("CampaignsTable"), {}, 0
        for members in (10_000, 100_000):
            add_members(loaded, members - loaded)
            loaded = members
            store.advance("winback", now - timedelta(days=1))  # the previous run: a day ago
            scanned.clear()
            started = time.perf_counter()
            targets = sum(1 for _ in flow.select(winback, now))
            elapsed = time.perf_counter() - started
            selection[str(members)] = {"targets": targets, "items_read": sum(scanned),
                                       "items_read_per_target": round(sum(scanned) / targets, 3),
                                       "scan_items_read": members, "seconds": round(elapsed, 2)}
        # Per item read as measured among 10,000 members: moto's own query time grows with its table size, which
        # DynamoDB's does not (a query costs per item it returns).
        per_item = selection["10000"]["seconds"] / selection["10000"]["items_read"]
        measured = selection["100000"]
        selection["1000000"] = {"targets": measured["targets"], "items_read": measured["items_read"],
                                "items_read_per_target": measured["items_read_per_target"],
                                "scan_items_read": 1_000_000, "extrapolated": True,
                                "seconds": round(per_item * selection["100000"]["items_read"], 2),
                                "scan_seconds": round(per_item * 1_000_000, 1)}
        figures["selection"] = selection
    with open(os.devnull, "w") as quiet, LocalStack(log_stream=quiet) as stack:  # a small table, as sending sees
        os.environ.update(stack.client_environment())
        figures["sending"] = _sending(stack)
    return figures


def _sending(stack: LocalStack) -> dict[str, object]:
    """BROADCAST campaign messages sent by SENDERS campaign senders at once — each in its own interpreter, as each
    Lambda is — through the campaign senders' pace, to the emulator; and a transactional message sent in the middle
    of them, against the same message sent alone."""
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    from bench.senders import campaign_sender
    from loyalty.contracts import CampaignMessage, OutboundMessage
    from loyalty.settings import CampaignSenderSettings, TelegramSenderSettings
    from loyalty.wiring.outbox import telegram_sender

    limits = stack.telegram.state.limits
    campaign_settings = CampaignSenderSettings.model_validate(stack.functions.environment("CampaignSenderFunction"))
    outbox_settings = TelegramSenderSettings.model_validate(stack.functions.environment("TelegramSenderFunction"))
    for n in range(BROADCAST + 10):
        stack.telegram.state.transcripts.setdefault(7_000_000 + n, [])
    context = multiprocessing.get_context("spawn")
    work = context.Queue()
    for n in range(BROADCAST):
        work.put(CampaignMessage(campaign="bench", touch=f"touch#{n}#bench", member_id=str(n), chat_id=7_000_000 + n,
                                 text="Новости", goal_days=7).model_dump_json())
    transactional = telegram_sender(outbox_settings)

    def send_transactional(n: int) -> float:
        started = time.perf_counter()
        transactional.handle_record(SQSRecord({"messageId": f"bench-{n}", "body": OutboundMessage(
            dedupe_key=f"bench:{n}", chat_id=7_000_000 + n, text="+45 баллов").model_dump_json()}))
        return time.perf_counter() - started

    send_transactional(BROADCAST + 2)  # a warm sender: its bot initialised, its first table calls made
    alone = statistics.median(send_transactional(BROADCAST + 2 + n) for n in range(1, 4))
    rejected, ready = limits.rejected, context.Barrier(SENDERS + 1)
    senders = [context.Process(target=campaign_sender, args=(campaign_settings.model_dump(), work, ready))
               for _ in range(SENDERS)]
    for sender in senders:
        sender.start()
    ready.wait()
    started = time.perf_counter()
    during_runs = []
    for n in range(3):
        time.sleep(2)  # the broadcast is in full flow
        during_runs.append(send_transactional(BROADCAST + 6 + n))
    during = statistics.median(during_runs)
    while not all(stack.telegram.state.transcripts[7_000_000 + n] for n in range(BROADCAST)):
        if not any(sender.is_alive() for sender in senders):
            raise RuntimeError("the campaign senders stopped before the broadcast was out")
        time.sleep(0.01)
    elapsed = time.perf_counter() - started
    for sender in senders:
        sender.join()
    return {"messages": BROADCAST, "concurrent_senders": SENDERS,
            "messages_per_second": round(BROADCAST / elapsed, 1),
            "telegram_limit_per_second": limits.per_second,
            "share_of_limit": round(BROADCAST / elapsed / limits.per_second, 2),
            "rate_limited_429": limits.rejected - rejected,
            "transactional_alone_seconds": round(alone, 3),
            "transactional_during_broadcast_seconds": round(during, 3),
            "transactional_delay_ratio": round(during / alone, 2)}


CRM_RECEIPTS = 20
IMPORT_ROWS = 100_000
REIMPORT_ROWS = 5_000


def crm_figures() -> dict[str, object]:
    """What one accepted receipt puts on CrmQueue, with the CRM consumer held back to count it, then delivered."""
    import yaml

    from loyalty_tools.local.event_sources import QueuePoller

    document = yaml.safe_load(PROGRAM.read_text(encoding="utf-8"))
    document["crm"] = yaml.safe_load((ROOT / "program" / "program.yaml").read_text(encoding="utf-8"))["crm"]
    with tempfile.TemporaryDirectory() as tmp, open(os.devnull, "w") as quiet:
        program = Path(tmp) / "program.yaml"
        program.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
        with LocalStack(receipts_dir=Path(tmp), program_file=program, log_stream=quiet) as stack:
            stack.poller("CrmQueue").stop()
            stack.backlogged.add("CrmQueue")
            shoppers = [Shopper(stack.telegram.url, user_id=810_000 + n) for n in range(CRM_RECEIPTS // 2)]
            for shopper in shoppers:
                shopper.say("/start")
                shopper.share_phone(f"+7916{shopper.chat_id:07d}")
            stack.wait_idle()
            joined = stack.queue_depth("CrmQueue")
            for n in range(CRM_RECEIPTS):
                raw = marketplace_receipt(SUPPLIER, [("Крем", 45000, 1), ("Сыворотка", 99000, 1)], fd=20_000 + n)
                stack.receipts.add(raw)
                shoppers[n % len(shoppers)].say(qr_of(raw))
            stack.wait_idle(timeout=120)
            messages = stack.queue_depth("CrmQueue") - joined
            spec = stack.functions.specs["CrmSyncFunction"]
            poller = QueuePoller(stack.template, stack.functions, "CrmSyncFunction", spec.queues[0], stack.moto.url)
            poller.start()
            stack.backlogged.clear()
            stack.wait_idle(timeout=120)
            poller.stop()
            state = stack.mindbox.state()
    operations = Counter(op["operation"] for op in state["operations"])
    register = document["crm"]["mindbox"]["operations"]["member_registered"]
    receipt_requests = sum(operations.values()) - operations[register]  # the test program pays no welcome bonus
    return {
        "receipts": CRM_RECEIPTS,
        "sqs_messages_per_receipt": round(messages / CRM_RECEIPTS, 2),
        "goal_sqs_messages_per_receipt": 1,
        "mindbox_requests_per_receipt": round(receipt_requests / CRM_RECEIPTS, 2),
        "mindbox_operations": dict(sorted(operations.items())),
        "note": "a receipt's order, its points and a level it opens travel as one message (grouped by member); "
                "each is one Mindbox request. The members' registrations are not counted.",
    }


def import_figures() -> dict[str, object]:
    """`loyalty members import` on 100,000 generated rows (half with a Telegram id, every third with a level)."""
    import csv
    import io

    from loyalty_tools import members_cli

    def write(path: Path, rows: int) -> None:
        with path.open("w", encoding="utf-8", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(members_cli.COLUMNS)
            for n in range(rows):
                writer.writerow([f"+7916{n:07d}", str(20_000_000 + n) if n % 2 else "", "", n % 1000, "",
                                 "friend" if n % 3 == 0 else ""])

    def run(path: Path, stack: LocalStack) -> dict[str, Any]:
        before, out = stack.moto.counter.snapshot(), io.StringIO()
        start = time.perf_counter()
        members_cli.import_members(path, "MembersTable", "LedgerTable", ROOT / "program" / "program.yaml",
                                   out=out)
        seconds = time.perf_counter() - start
        summary = json.loads(out.getvalue())
        requests = stack.moto.counter.snapshot() - before
        dynamodb = {op: n for (caller, service, op), n in requests.items() if service == "dynamodb"}
        return {"rows": summary["rows"], "imported": summary["imported"], "unchanged": summary["unchanged"],
                "rows_per_second": round(summary["rows"] / seconds, 1),
                "dynamodb_requests_per_row": round(sum(dynamodb.values()) / summary["rows"], 3),
                "dynamodb_requests": dict(sorted(dynamodb.items()))}

    with tempfile.TemporaryDirectory() as tmp, open(os.devnull, "w") as quiet, \
            LocalStack(log_stream=quiet, event_sources=False) as stack:
        os.environ.update(stack.client_environment())
        first, again = Path(tmp) / "members.csv", Path(tmp) / "again.csv"
        write(first, IMPORT_ROWS)
        write(again, REIMPORT_ROWS)
        sys.stderr, stderr = io.StringIO(), sys.stderr  # the progress bar, 100,000 rows long
        try:
            imported = run(first, stack)
            rerun = run(again, stack)
        finally:
            sys.stderr = stderr
        dynamodb, puts = stack.aws("dynamodb"), 500
        put_start = time.perf_counter()
        for n in range(puts):
            dynamodb.put_item(TableName="IdempotencyTable", Item={"id": {"S": f"bench-{n}"}})
        puts_per_second = puts / (time.perf_counter() - put_start)
    return {
        "first_run": imported,
        "re_run": rerun,
        "baseline_moto_putitem_per_second": round(puts_per_second, 1),
        "rows_per_second_vs_putitems_per_second": round(float(imported["rows_per_second"]) / puts_per_second, 3),
        "note": "moto serves DynamoDB one request at a time, so rows per second is moto's rate over the requests "
                "per row; DynamoDB itself takes the import's 8 writers in parallel",
    }


DASHBOARD_MEMBERS = 100_000  # a year of a program this size


def dashboard_figures() -> dict[str, object]:
    """What one dashboard view reads (a year against the year before) at 100,000 members with a year of purchases,
    against what computing the same figures from a scan of the books reads. The books are generated in memory and
    sized as DynamoDB sizes items; the daily figures they make are written to the local stack's FiguresTable, and
    the view reads them back from there as the console does."""
    import random
    from datetime import UTC, date, datetime, timedelta

    from loyalty.adapters.figures_table import BACKFILL, PARTS, FiguresTable
    from loyalty.adapters.ledger import entry_item
    from loyalty.adapters.program_file import load_program
    from loyalty.domain.daily import Books
    from loyalty.domain.dashboard import dashboard
    from loyalty.domain.details import Details
    from loyalty.domain.ledger import Entry, Kind
    from loyalty.domain.wallet import Balance
    from loyalty_tools.report_cli import stored

    program = load_program(ROOT / "program" / "program.yaml")
    rng = random.Random(2026)
    start = datetime(2025, 12, 1, 9, tzinfo=UTC)
    channels = ("wildberries", "ozon", "golden_apple", "d2c")
    books, scan_bytes, scan_items = Books(program), 0, 0
    for n in range(DASHBOARD_MEMBERS):
        member_id, joined = str(30_000_000 + n), start + timedelta(minutes=rng.randint(0, 525_000))
        member = {"member_id": member_id, "joined_at": joined.isoformat(), "joined_via": "insert:wb",
                  "consented_at": joined.isoformat(), "subscribed": True, "phone": f"+7916{n:07d}",
                  "available": 100, "pending": 45, "version": 3, "wallet": "x" * 600}  # a wallet's JSON, about so
        entries = [Entry(member_id=member_id, entry_id="bonus#welcome", kind=Kind.BONUS, points=100,
                         change=Balance(available=100), balance_after=Balance(available=100), created_at=joined)]
        at = joined
        for k in range(rng.choice((1, 1, 1, 2, 3, 5, 8))):
            at += timedelta(days=rng.randint(0, 60), hours=rng.randint(0, 9))
            entries.append(Entry(member_id=member_id, entry_id=f"receipt#{n}:{k}", kind=Kind.ACCRUAL, points=45,
                                 change=Balance(pending=45), balance_after=Balance(pending=45), created_at=at,
                                 details=Details(channel=rng.choice(channels), brand_sum_kopecks=45_000,
                                                 fiscal_key=f"t=20251201T0900&s=450.00&fn={n:016d}&i={k}",
                                                 purchased_at=at, lines=[])))
        books.member(member)
        books.entries(entries)
        scan_items += 1 + len(entries)
        scan_bytes += _item_bytes(member) + sum(_item_bytes(entry_item(entry)) for entry in entries)
    compute_start = time.perf_counter()
    days = books.tallies()
    scan_compute_seconds = time.perf_counter() - compute_start
    with open(os.devnull, "w") as quiet, LocalStack(log_stream=quiet, event_sources=False) as stack:
        os.environ.update(stack.client_environment())
        FiguresTable("FiguresTable").replace(days, {})
        since, until = date(2025, 12, 1), date(2026, 12, 1)
        read_since = since - (until - since)
        before = stack.moto.counter.snapshot()
        view_start = time.perf_counter()
        board = dashboard(program, stored("FiguresTable", read_since), since, until)
        view_seconds = time.perf_counter() - view_start
        requests = sum((stack.moto.counter.snapshot() - before).values())
        paginator = stack.aws("dynamodb").get_paginator("query")
        items = [item for part in [f"part#{n}" for n in range(PARTS)] + [BACKFILL]
                 for page in paginator.paginate(TableName="FiguresTable", KeyConditionExpression="pk = :p AND sk >= :s",
                                                ExpressionAttributeValues={":p": {"S": part},
                                                                           ":s": {"S": read_since.isoformat()}})
                 for item in page["Items"]]  # what the view read, again, to weigh it
    view_bytes = sum(_raw_bytes(item) for item in items)
    receipts = next(row for row in board.tables[1].rows if row.label == "чеков")
    return {
        "members": DASHBOARD_MEMBERS, "receipts_in_the_year": receipts.now,
        "scan_items": scan_items, "scan_mb": round(scan_bytes / 1e6, 1),
        "scan_read_units": _read_units(scan_bytes),
        "dashboard_items": len(items), "dashboard_kb": round(view_bytes / 1e3, 1),
        "dashboard_read_units": _read_units(view_bytes), "dashboard_requests": requests,
        "dashboard_vs_scan_bytes": round(view_bytes / scan_bytes, 5),
        "view_seconds": round(view_seconds, 2), "baseline_scan_compute_seconds": round(scan_compute_seconds, 2),
        "view_vs_scan_compute": round(view_seconds / scan_compute_seconds, 3),
        "note": "read units as DynamoDB charges an eventually consistent scan or query (0.5 per 4 KB read); the "
                "scan's seconds are only its arithmetic over the books in memory, not reading them, so the view's "
                "ratio against a real scan is smaller still",
    }


def _item_bytes(values: dict[str, Any]) -> int:
    from loyalty.adapters.dynamo import to_item

    return _raw_bytes(to_item(values))


def _raw_bytes(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB counts it, near enough: names and values in UTF-8."""
    return len(json.dumps(item, ensure_ascii=False).encode())


def _read_units(size: int) -> int:
    return max(1, round(size / 4096 / 2))


BOT_TAPS = 20  # of each menu action, by as many members


def bot_figures() -> dict[str, object]:
    """What a menu tap costs: DynamoDB requests per update and the webhook's answer time, each against `/help` (a
    reply with no reads of the wallet) in the same run; and what a follow-up costs the campaigns run to send."""
    from datetime import timedelta

    from loyalty_tools.local.receipts import marketplace_receipt as receipt

    seed = ROOT / "program" / "program.yaml"
    with tempfile.TemporaryDirectory() as receipts_dir, open(os.devnull, "w") as quiet, LocalStack(
        receipts_dir=Path(receipts_dir), program_file=seed, log_stream=quiet,
    ) as stack:
        members = [Shopper(stack.telegram.url, user_id=820_000 + n) for n in range(BOT_TAPS)]
        for n, member in enumerate(members):
            member.say("/start")
            member.share_phone(f"+7916{n:07d}")
        stack.wait_idle()
        start = stack.now()
        for n, member in enumerate(members):
            raw = receipt("7700000017", [("Лепесток крем для рук 50 мл", 45000, 1)], fd=30_000 + n,
                          issued_at=start - timedelta(hours=1))
            stack.receipts.add(raw)
            member.say(qr_of(raw))
        stack.wait_idle(timeout=120)

        def tapped(action: Callable[[Shopper], object]) -> dict[str, float]:
            before, seconds = stack.moto.counter.snapshot(), []
            for member in members:
                started = time.perf_counter()
                action(member)  # returns once the webhook has answered
                seconds.append(time.perf_counter() - started)
            delta = stack.moto.counter.snapshot() - before
            dynamo = sum(count for (caller, service, _), count in delta.items()
                         if caller == "functions" and service == "dynamodb")
            return {"dynamodb_requests_per_update": round(dynamo / len(members), 2),
                    "webhook_answer_ms_median": round(statistics.median(seconds) * 1000, 1)}

        figures = {"help (baseline)": tapped(lambda m: m.say("/help"))}
        figures["balance"] = tapped(lambda m: m.say("💰 Баланс"))
        figures["level"] = tapped(lambda m: m.say("🏆 Мой уровень"))
        figures["rewards"] = tapped(lambda m: m.say("🎁 Награды"))
        stack.wait_idle()
        figures["receipt guide"] = tapped(lambda m: m.say("📷 Зарегистрировать чек"))
        stack.wait_idle()
        figures["store guide (inline button)"] = tapped(lambda m: m.tap("Wildberries"))
        base = figures["help (baseline)"]["webhook_answer_ms_median"]
        for measured in figures.values():
            measured["answer_time_ratio_to_help"] = round(measured["webhook_answer_ms_median"] / base, 2)
        stack.wait_idle()
        before = stack.moto.counter.snapshot()
        result = stack.run_schedules(at=start + timedelta(hours=80))  # onboarding, nudge, survey: all due
        stack.wait_idle(timeout=120)
        delta = stack.moto.counter.snapshot() - before
        sent = result["CampaignsFunction"]["followups"].get("sent", 0)
        dynamo = sum(count for (caller, service, _), count in delta.items()
                     if caller == "functions" and service == "dynamodb")
    return {"menu": figures, "members": BOT_TAPS,
            "note": "DynamoDB requests at moto for the whole answer: the webhook (the update's idempotency record, "
                    "the member) and the outbox's sender (its idempotency record and the shared pace); what an "
                    "action costs beyond /help is what it reads itself (the wallet, the reward stock)",
            "followups": {"sent": sent, "dynamodb_requests_per_followup": round(dynamo / max(sent, 1), 2),
                          "note": "the schedules' whole run at +80 h (points schedule included) and the paced "
                                  "sender's delivery, per follow-up sent"}}


def miniapp_figures() -> dict[str, object]:
    """The Mini App's weight and how soon it shows the member's figures in headless Chromium, on the local stack:
    its first load (the function's first call in a fresh container) and a warm one, against the same page with the
    API held back (the HTML alone) in the same run; and its API's cold import against `import boto3`."""
    import gzip
    import json as json_
    from urllib.parse import quote

    from playwright.sync_api import sync_playwright

    from loyalty.domain.init_data import sign

    page_file = ROOT / "functions" / "webapp_api" / "static" / "index.html"
    html = page_file.read_bytes()
    from loyalty_tools import cold_start

    measured = cold_start.measure(["WebAppApiFunction"], rounds=IMPORT_RUNS)
    baseline, cold = (statistics.median(measured.baseline_seconds),
                      statistics.median(measured.seconds["WebAppApiFunction"]))
    seed = ROOT / "program" / "program.yaml"
    with tempfile.TemporaryDirectory() as receipts_dir, open(os.devnull, "w") as quiet, LocalStack(
        receipts_dir=Path(receipts_dir), program_file=seed, log_stream=quiet,
    ) as stack, sync_playwright() as playwright:
        member = Shopper(stack.telegram.url, user_id=830_001)
        member.say("/start")
        member.share_phone("+79160830001")
        stack.wait_idle()
        init = sign({"id": member.chat_id, "first_name": "Анна", "language_code": "ru"}, stack.bot_token, stack.now())
        url = f"{stack.api.url}/miniapp/#tgWebAppData={quote(init)}&tgWebAppThemeParams={quote(json_.dumps({}))}"
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"])

        def ready(hold_api: bool = False) -> float:
            page = browser.new_page(viewport={"width": 360, "height": 800})
            page.route("https://telegram.org/**", lambda route: route.abort())
            if hold_api:
                page.route("**/miniapp/api/**", lambda route: route.abort())
            started = time.perf_counter()
            page.goto(url)
            page.wait_for_selector("#error" if hold_api else "#app:not([hidden])",
                                   state="visible" if hold_api else "attached")
            seconds = time.perf_counter() - started
            page.close()
            return seconds

        first = ready()
        warm = statistics.median(ready() for _ in range(5))
        html_only = statistics.median(ready(hold_api=True) for _ in range(5))
        browser.close()
    return {
        "page_bytes": len(html), "page_gzip_bytes": len(gzip.compress(html)),
        "api_cold_import_seconds": round(cold, 4), "api_cold_import_ratio_to_boto3": round(cold / baseline, 2),
        "ready_ms_first_load": round(first * 1000, 1), "ready_ms_warm_median": round(warm * 1000, 1),
        "html_only_ms_median": round(html_only * 1000, 1),
        "warm_ready_ratio_to_html_only": round(warm / html_only, 2),
        "note": "ready = the member's figures on screen at 360 px (navigation to #app shown); html only = the same "
                "page with its API call refused. The local stack runs the function in-process, so the first load "
                "includes the function's first call but not Lambda's own start (~the cold import above)",
    }


SECTIONS: dict[str, Callable[[], object]] = {
    "cold_import": cold_imports, "local_stack": local_stack_figures, "ledger": ledger_figures,
    "earning": earning_figures, "demo": demo_figures, "campaigns": campaign_figures, "crm": crm_figures,
    "member_import": import_figures, "bot": bot_figures, "miniapp": miniapp_figures, "dashboard": dashboard_figures,
    "cost": cost_figures, "letters": letters_figures,
}


def main(argv: list[str]) -> int:
    """Every section, or only the ones named (`python -m bench crm member_import`), into results.json."""
    from bench.photos import compare

    sections = {**SECTIONS, "photo_decoders": compare}
    unknown = set(argv) - set(sections)
    if unknown:
        print(f"no such section: {', '.join(sorted(unknown))}; sections: {', '.join(sections)}", file=sys.stderr)
        return 2
    results = json.loads(RESULTS.read_text(encoding="utf-8")) if argv and RESULTS.exists() else {}
    results["python"] = sys.version.split()[0]
    for name in argv or sections:
        results[name] = sections[name]()
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({name: results[name] for name in argv} if argv else results, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
