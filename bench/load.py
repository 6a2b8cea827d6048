"""`make load` and `make chaos`: a hundred shoppers at once against the local stack, then proof that nothing was lost
or doubled.

The stack runs in this process; the shoppers run in another (`python -m bench.load drive`), each on its own
thread, talking HTTP to the Telegram emulator, which calls the webhook as Telegram does. Each shopper joins, sends
three new receipts as QR text and one as a photo, sends one of its own receipts again and one of another
shopper's (racing that shopper for it), taps the menu, and has two of its updates redelivered. Like Telegram, a
shopper whose update was not answered 200 delivers it again until it is. One shopper in five (at least three) is a
receipt-farm account: all its receipts come from one farm's till, which the program's `till_members` rule watches.
One in ten (at least four) is a referral ring's account: it joins by one member's invitation link (that member asks
the bot for it with /invite), sends one receipt, the one that pays both invitation bonuses, and never another, which
the program's `idle_friends` rule watches.

`--chaos` runs the same with faults injected throughout (chaos.py), until everything the shoppers sent has been
processed: the receipt service failing 30% of its calls and slow, Mindbox down for the first part of the run,
Telegram answering 429, DynamoDB throttling and transaction conflicts injected at the client, and queue handlers
killed mid-batch. Then the faults stop and what was parked is replayed as an operator would (`loyalty dlq redrive`).

The checks, the same for both: every webhook call was finally answered 200; every update was handled (its log
line) and every receipt submission decided; every distinct receipt was claimed once and credited once (one
`receipt#<fiscal key>` ledger entry in the whole ledger); no dead-letter queue holds anything; `loyalty ledger
verify` passes; every farmed and ring receipt is held (the first ones once the farm or ring shows) and no honest
one, and `loyalty fraud report` counts them. The figures (throughput, the webhook's answer times as percentiles,
against the unloaded answer time of the same stack measured first) go to bench/load.json or bench/chaos.json, and
the exit status is 1 when a check fails.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from bench import chaos
from loyalty.adapters.dynamo import from_item
from loyalty.domain.texts import TEXTS
from loyalty_tools.local.receipts import DEMO_FN, WILDBERRIES_INN, marketplace_receipt, qr_of
from loyalty_tools.local.shopper import Shopper, StaffChat
from loyalty_tools.local.stack import ROOT, LocalStack
from loyalty_tools.receipt_photos import Defects, receipt_photo

SEED = ROOT / "program" / "program.yaml"
RESULTS = ROOT / "bench"
NEW_RECEIPTS = 3  # as QR text; and one more as a photo
FARM_SHARE = 5  # one shopper in five (at least three) is a receipt-farm account: every receipt from one farm's till
FARM = {"seller_inn": "7700000077", "seller": "ИП Ферма", "retail_place": "Ларёк «Всё по 100»",
        "fn": "9960440300000077"}
FARM_RULE = {"rule": "till_members", "threshold": 2}  # the farm shows at its third account
RING_SHARE = 10  # one shopper in ten (at least four) is a ring account, invited by the shopper after the farms
RING_RULE = {"rule": "idle_friends", "threshold": 2, "days": 30}  # the ring shows at its third friend
MIN_SHOPPERS = 8
RING_WAIT_SECONDS = 900  # the ring waits this long for its inviter's link (under chaos, Telegram answers 429 too)
TELEGRAM_RETRIES = 30  # Telegram redelivers an unanswered update for far longer; a run that needs this many failed


class Logs(io.StringIO):
    """The stack's log lines (JSON), kept to check that every update was handled."""

    _lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            return super().write(text)

    def lines(self) -> list[dict[str, Any]]:
        with self._lock:
            text = self.getvalue()
        return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


# ---------------------------------------------------------------------------------------------------- the run
def run(shoppers: int, with_chaos: bool, log_file: Path | None = None) -> dict[str, Any]:
    if shoppers < MIN_SHOPPERS:
        raise ValueError(f"a run takes at least {MIN_SHOPPERS} shoppers: three farm accounts, an inviter and a ring "
                         "of four")
    logs = Logs()
    try:
        return _run(shoppers, with_chaos, logs)
    finally:
        if log_file:
            log_file.write_text(logs.getvalue(), encoding="utf-8")


def _run(shoppers: int, with_chaos: bool, logs: Logs) -> dict[str, Any]:
    if with_chaos:  # a killed batch is logged with its traceback by the local poller, as Lambda would: expected here
        logging.getLogger("loyalty_tools.local").setLevel(logging.CRITICAL)
    # Everything any library logs at INFO and above is kept too (Lambda sends it all to CloudWatch): the check for
    # phones and secrets reads it all.
    everything = logging.StreamHandler(logs)
    everything.setLevel(logging.INFO)
    root = logging.getLogger()
    level, root.level = root.level, min(root.level or logging.WARNING, logging.INFO)
    root.addHandler(everything)
    try:
        return _loaded(shoppers, with_chaos, logs)
    finally:
        root.removeHandler(everything)
        root.setLevel(level)


def _loaded(shoppers: int, with_chaos: bool, logs: Logs) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        program = Path(tmp) / "program.yaml"
        document = yaml.safe_load(SEED.read_text(encoding="utf-8"))
        document["receipts"]["max_per_day"] = 10  # each shopper sends up to five in a few seconds
        document["fraud"]["submissions"] = {"per_minute": 30, "per_day": 100}  # and races another for one more
        document["fraud"]["rules"] = [FARM_RULE, RING_RULE]
        program.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
        overrides = {"CrmRetryCapSeconds": "4", "MessageRetryCapSeconds": "4"} if with_chaos else {}
        with LocalStack(receipts_dir=Path(tmp), program_file=program, log_stream=logs,
                        retry_base_seconds=1 if with_chaos else 0, parameter_overrides=overrides) as stack:
            baseline_ms = _unloaded_answer_ms(stack)
            plan = _plan(stack, shoppers, Path(tmp))
            StaffChat(stack.telegram.url, document["bot"]["staff_chat_id"])  # the brand's group: held receipts go there
            faults = chaos.Faults(stack, [s["user_id"] for s in plan["shoppers"]]) if with_chaos else None
            started, started_at = time.perf_counter(), datetime.now(UTC)
            if faults:
                faults.start()
            try:
                calls = _drive(plan, Path(tmp))
                answered = time.perf_counter() - started
                stack.wait_idle(timeout=1800)  # the receipts, points, replies and CRM sync behind them, under faults
            finally:
                if faults:
                    faults.stop()  # then what was parked is replayed, as an operator would after the outage
            redriven = _redrive_parked(stack) if faults else {}
            settled = time.perf_counter() - started
            checks = _check(stack, plan, calls, logs)
            figures = _figures(calls, answered, settled, baseline_ms, _credited_within(logs, started_at))
            return {"measured_at": datetime.now(UTC).isoformat(timespec="seconds"), "shoppers": shoppers,
                    **figures, "checks": checks, **({"faults": faults.report(), "redriven": redriven} if faults
                                                     else {})}


def _unloaded_answer_ms(stack: LocalStack) -> float:
    """The webhook's answer to `/help` with nothing else going on: the baseline the loaded figures are read
    against. One shopper each, so no chat waits on Telegram's pace for its replies."""
    times = [Shopper(stack.telegram.url, user_id=6_900_000 + n).say("/help")["webhook_ms"] for n in range(30)]
    stack.wait_idle(timeout=120)
    return float(statistics.median(times[5:]))


def _plan(stack: LocalStack, count: int, tmp: Path) -> dict[str, Any]:
    """Each shopper's receipts, added to the receipt service, and the updates it will send."""
    issued = stack.now() - timedelta(hours=2)
    inn = yaml.safe_load(SEED.read_text(encoding="utf-8"))["brand"]["supplier_inns"][0]
    shoppers: list[dict[str, Any]] = []
    farms = max(3, count // FARM_SHARE)  # 20 of 100: the farm shows at its third account, whatever the run's size
    ring = range(farms + 1, farms + 1 + max(4, count // RING_SHARE))  # invited by shopper `farms`: 10 of 100
    for n in range(count):
        receipts, farm = [], n < farms
        for k in range(1 if n in ring else NEW_RECEIPTS + 1):  # a ring's account sends one receipt, never another
            where = FARM if farm else {"seller_inn": WILDBERRIES_INN, "seller": "ООО «РВБ»",
                                       "retail_place": "www.wildberries.ru", "fn": DEMO_FN}
            raw = marketplace_receipt(inn, [("Лепесток крем для рук 50 мл", 45_000 + 100 * k, 1)],
                                      fd=1_000_000 + n * 10 + k, issued_at=issued, seller_inn=where["seller_inn"],
                                      seller=where["seller"], retail_place=where["retail_place"], fn=where["fn"])
            stack.receipts.add(raw)
            receipts.append(qr_of(raw))
        shoppers.append({"user_id": 8_000_000 + n, "phone": f"+7926{n:07d}", "receipts": receipts, "farm": farm,
                         "ring": n in ring, "inviter": n == farms})
    honest = [n for n in range(count) if n not in ring]
    for at, n in enumerate(honest):  # each honest shopper races the next for one of its receipts
        shoppers[n]["races"] = honest[(at + 1) % len(honest)]
    photos = tmp / "photos"
    photos.mkdir()
    for shopper in shoppers:  # the fourth receipt goes as a photo of it
        if not shopper["ring"]:
            photo = receipt_photo(shopper["receipts"][-1], Defects(rotate=3, width=700), seed=shopper["user_id"])
            (photos / f"{shopper['user_id']}.jpg").write_bytes(photo)
    words = TEXTS["button_balance"]["ru"], TEXTS["button_level"]["ru"]
    return {"telegram_url": stack.telegram.url, "photos": str(photos), "shoppers": shoppers, "buttons": words}


def _drive(plan: dict[str, Any], tmp: Path) -> list[dict[str, Any]]:
    """The shoppers, from a process of their own: what each webhook call answered, and how fast."""
    plan_file, out = tmp / "plan.json", tmp / "calls.json"
    plan_file.write_text(json.dumps(plan), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in ("layers/loyalty", "infra", "."))}
    subprocess.run([sys.executable, "-m", "bench.load", "drive", str(plan_file), str(out)], check=True, env=env,
                   cwd=ROOT, timeout=1800)
    calls: list[dict[str, Any]] = json.loads(out.read_text(encoding="utf-8"))
    return calls


def _redrive_parked(stack: LocalStack) -> dict[str, int]:
    """What an operator does after an outage: replay every dead-letter queue that has a source."""
    from loyalty_tools import dlq_cli

    moved = {}
    with stack.as_operator():
        for queue in dlq_cli.dead_letter_queues():
            depth = stack.queue_depth(queue.name.removesuffix(".fifo"))
            if depth and queue.source_url:
                with contextlib.redirect_stdout(io.StringIO()):
                    dlq_cli.redrive(queue.name)
                moved[queue.name] = depth
    stack.wait_idle(timeout=600)
    return moved


# ---------------------------------------------------------------------------------------------------- the checks
def _check(stack: LocalStack, plan: dict[str, Any], calls: list[dict[str, Any]], logs: Logs) -> dict[str, Any]:
    lines = logs.lines()
    handled = {line["update_id"] for line in lines if line.get("message") == "update handled"}
    decided = {line["submission_id"] for line in lines
               if line.get("message") in ("receipt accepted", "receipt refused")}
    sent = [call for call in calls if call["kind"] != "redeliver"]
    final = {call["update_id"]: call for call in calls}  # each update's last delivery (calls are in order)
    unanswered = [call for call in final.values() if call["status"] != 200]
    lost_updates = sorted(call["update_id"] for call in sent if call["update_id"] not in handled)
    submissions = [call for call in sent if call["kind"] in ("receipt", "photo", "own_again", "others")]
    undecided = sorted(call["update_id"] for call in submissions if f"tg-update:{call['update_id']}" not in decided)

    claims = Counter(from_item(item)["fiscal_key"] for item in _scan(stack, "ReceiptClaimsTable")
                     if "fiscal_key" in from_item(item))
    credits = Counter(entry["entry_id"].removeprefix("receipt#") for entry in map(from_item, _scan(
        stack, "LedgerTable")) if entry["entry_id"].startswith("receipt#"))
    from loyalty.domain.qr import parse_qr

    distinct = {str(parse_qr(qr).key) for shopper in plan["shoppers"] for qr in shopper["receipts"]}
    never_credited = sorted(distinct - set(credits))
    doubled = sorted(key for key, n in credits.items() if n > 1) + sorted(key for key, n in claims.items() if n > 1)
    parked = {queue: sorted({m["attributes"].get("reason", "moved by SQS") for m in stack.dead_letters(queue)})
              for queue in stack.template.of_type("AWS::SQS::Queue")
              if "DeadLetter" in queue and stack.queue_depth(queue)}
    secrets = [stack.bot_token, stack.webhook_secret, stack.api_key, stack.receipt_token, stack.crm_secret,
               stack.stack_key]
    farmed = {str(parse_qr(qr).key) for shopper in plan["shoppers"] if shopper["farm"] for qr in shopper["receipts"]}
    ringed = {str(parse_qr(qr).key) for shopper in plan["shoppers"] if shopper["ring"] for qr in shopper["receipts"]}
    inviter = next(str(shopper["user_id"]) for shopper in plan["shoppers"] if shopper["inviter"])
    invited = sum(1 for item in map(from_item, _scan(stack, "MembersTable")) if item.get("referred_by") == inviter)
    held = _held(stack)
    said = _loyalty(stack, "fraud", "report", "--json")
    fraud: dict[str, Any] = json.loads(said) if said.startswith("{") else {"error": said, "by_rule": {}}
    leaks = leaked(logs.getvalue(), [shopper["phone"] for shopper in plan["shoppers"]], secrets)
    verify = _loyalty(stack, "ledger", "verify")
    checks: dict[str, Any] = {
        "updates_sent": len(sent), "redeliveries": len(calls) - len(sent),
        "answered_200_finally": len(final) - len(unanswered), "lost_updates": len(lost_updates),
        "receipt_submissions": len(submissions), "undecided_submissions": len(undecided),
        "distinct_receipts": len(distinct), "credited_once": sum(1 for k in distinct if credits.get(k) == 1),
        "lost": len(never_credited) + len(lost_updates) + len(undecided), "doubled": len(doubled),
        "dead_lettered_at_end": parked, "ledger_verify": verify.strip().splitlines()[-1] if verify else "",
        "log_lines_read": logs.getvalue().count("\n"), "phones_or_secrets_in_logs": len(leaks),
        "farmed_receipts": len(farmed), "farmed_held": len(farmed & held), "ring_accounts_invited": invited,
        "ring_receipts": len(ringed), "ring_held": len(ringed & held), "honest_held": len(held - farmed - ringed),
        "fraud_report_held": fraud.get("held"),
        "fraud_report_by_rule": {rule: figures.get("held") for rule, figures in fraud.get("by_rule", {}).items()},
    }
    checks["passed"] = (not unanswered and checks["lost"] == 0 and checks["doubled"] == 0 and not parked
                        and not leaks
                        and checks["credited_once"] == len(distinct) and "ok" in checks["ledger_verify"].lower()
                        and farmed | ringed == held and invited == len(ringed)
                        and fraud.get("held") == len(farmed) + len(ringed)
                        and checks["fraud_report_by_rule"] == {"till_members": len(farmed),
                                                               "idle_friends": len(ringed)})
    if not checks["passed"]:
        checks["examples"] = {"lost_updates": lost_updates[:5], "undecided": undecided[:5],
                              "never_credited": never_credited[:5], "doubled": doubled[:5],
                              "unanswered": unanswered[:5]}
    return checks


def _held(stack: LocalStack) -> set[str]:
    """The receipts the fraud rules held: at once (their accrual names the rules) or once found out."""
    entries = list(map(from_item, _scan(stack, "LedgerTable")))
    held_at_once = {str(entry["details"]["fiscal_key"]) for entry in entries
                    if entry["kind"] == "accrual" and entry.get("details", {}).get("held_by")}
    return held_at_once | {str(entry["details"]["fiscal_key"]) for entry in entries if entry["kind"] == "held_later"}


def leaked(text: str, phones: list[str], secrets: list[str]) -> list[str]:
    """The log lines that hold one of the phones (written any usual way: +7 926 000-00-01, 89260000001) or one of
    the secrets."""
    patterns = [re.escape(secret) for secret in secrets]
    for phone in phones:
        national = re.sub(r"\D", "", phone)[1:]  # 9260000001, after the country code
        patterns.append(r"(?:\+?7|8)?[\s()-]*" + r"[\s()-]*".join(national))
    found = re.compile("|".join(f"(?:{pattern})" for pattern in patterns))
    return [line for line in text.splitlines() if found.search(line)]


def _scan(stack: LocalStack, table: str) -> list[dict[str, Any]]:
    paginator = stack.aws("dynamodb").get_paginator("scan")
    return [item for page in paginator.paginate(TableName=table, ConsistentRead=True) for item in page["Items"]]


def _loyalty(stack: LocalStack, *args: str) -> str:
    code, out, err = stack.operator(*args)
    return out if code == 0 else f"FAILED ({code}): {out}{err}"


def _credited_within(logs: Logs, started_at: datetime) -> tuple[int, float]:
    """How many receipts were credited, and how long after the start the last one was."""
    credited = [datetime.strptime(line["timestamp"], "%Y-%m-%d %H:%M:%S,%f%z") for line in logs.lines()
                if line.get("message") == "points credited" and not line.get("replayed")]
    return len(credited), (max(credited) - started_at).total_seconds() if credited else 0.0


def _figures(calls: list[dict[str, Any]], answered: float, settled: float, baseline_ms: float,
             credited: tuple[int, float]) -> dict[str, Any]:
    times = sorted(call["webhook_ms"] for call in calls if call.get("webhook_ms") is not None)

    def pct(q: float) -> float:
        return round(float(times[min(len(times) - 1, int(q * len(times)))]), 1)

    count, within = credited
    return {
        "webhook_calls": len(calls),
        "throughput": {"webhook_calls_per_second": round(len(calls) / answered, 1),
                       "receipts_credited_per_second": round(count / within, 2) if within else 0,
                       "seconds_to_answer_every_update": round(answered, 1),
                       "seconds_to_credit_every_receipt": round(within, 1),
                       "seconds_until_quiet": round(settled, 1),
                       "note": "until quiet: every reply delivered, at Telegram's pace of about one message a second "
                               "per chat (after a burst of five), which the emulator enforces"},
        "webhook_answer_ms": {"p50": pct(0.50), "p95": pct(0.95), "p99": pct(0.99), "max": times[-1],
                              "unloaded_baseline_p50": round(baseline_ms, 1),
                              "p50_to_baseline": round(pct(0.50) / baseline_ms, 1),
                              "p99_to_baseline": round(pct(0.99) / baseline_ms, 1)},
        "note": "the local stack runs one function invocation at a time in one process on moto, so these figures "
                "measure the code's correctness under concurrency and the local stack's capacity, not Lambda's",
    }


# ---------------------------------------------------------------------------------------------------- the shoppers
def drive(plan_file: Path, out: Path) -> None:
    """The shoppers' process: one thread per shopper, all at once."""
    plan = json.loads(plan_file.read_text(encoding="utf-8"))
    shoppers = plan["shoppers"]
    start, link = threading.Barrier(len(shoppers)), Invitation()

    def shopper_run(n: int) -> list[dict[str, Any]]:
        start.wait()
        return _shopper_session(plan, n, link)

    with ThreadPoolExecutor(max_workers=len(shoppers)) as pool:
        calls = [call for session in pool.map(shopper_run, range(len(shoppers))) for call in session]
    out.write_text(json.dumps(calls), encoding="utf-8")


class Invitation:
    """The ring's inviter's link, as the bot gave it: the ring's accounts wait for it."""

    def __init__(self) -> None:
        self.payload = ""
        self.given = threading.Event()

    def give(self, shopper: Shopper) -> None:
        """Read the link from the inviter's chat once the bot has answered /invite."""
        deadline = time.monotonic() + RING_WAIT_SECONDS
        while time.monotonic() < deadline:
            found = re.search(r"start=(ref_\w+)", " ".join(shopper.bot_messages()))
            if found:
                self.payload = found.group(1)
                self.given.set()
                return
            time.sleep(0.2)
        raise TimeoutError(f"waited {RING_WAIT_SECONDS} s for the bot's answer to /invite in {shopper.chat_id}")

    def taken(self) -> str:
        if not self.given.wait(RING_WAIT_SECONDS):
            raise TimeoutError(f"waited {RING_WAIT_SECONDS} s for the ring's inviter's link")
        return self.payload


def _shopper_session(plan: dict[str, Any], n: int, link: Invitation) -> list[dict[str, Any]]:
    me = plan["shoppers"][n]
    shopper = Shopper(plan["telegram_url"], user_id=me["user_id"])
    calls: list[dict[str, Any]] = []

    def deliver(kind: str, send: Any) -> int:
        answer = send()
        update_id = int(answer["update"]["update_id"])
        calls.append({"kind": kind, "update_id": update_id, "status": answer["status"],
                      "webhook_ms": answer.get("webhook_ms")})
        _until_answered(shopper, update_id, answer["status"], calls)
        return update_id

    joined = deliver("start", lambda: shopper.say(f"/start {link.taken()}" if me["ring"] else "/start"))
    deliver("phone", lambda: shopper.share_phone(me["phone"]))
    if me["inviter"]:
        deliver("menu", lambda: shopper.say("/invite"))
        link.give(shopper)
    first = deliver("receipt", lambda: shopper.say(me["receipts"][0]))
    if not me["ring"]:  # a ring's account sends its one receipt and never another
        for qr in me["receipts"][1:-1]:
            deliver("receipt", lambda qr=qr: shopper.say(qr))
        photo = (Path(plan["photos"]) / f"{me['user_id']}.jpg").read_bytes()
        deliver("photo", lambda: shopper.send_photo(photo))
        deliver("own_again", lambda: shopper.say(me["receipts"][0]))
        deliver("others", lambda: shopper.say(plan["shoppers"][me["races"]]["receipts"][1]))
    for button in plan["buttons"]:
        deliver("menu", lambda button=button: shopper.say(button))
    deliver("menu", lambda: shopper.say("/history"))
    for update_id in (first, joined):  # Telegram sending an update again
        answer = shopper.redeliver(update_id)
        calls.append({"kind": "redeliver", "update_id": update_id, "status": answer["status"],
                      "webhook_ms": answer.get("webhook_ms")})
        _until_answered(shopper, update_id, answer["status"], calls)
    return calls


def _until_answered(shopper: Shopper, update_id: int, status: int, calls: list[dict[str, Any]]) -> None:
    """As Telegram does: an update not answered 200 is delivered again, after a pause that grows."""
    for attempt in range(TELEGRAM_RETRIES):
        if status == 200:
            return
        time.sleep(min(0.5 * 2 ** attempt, 5.0))
        answer = shopper.redeliver(update_id)
        status = answer["status"]
        calls.append({"kind": "redeliver", "update_id": update_id, "status": status,
                      "webhook_ms": answer.get("webhook_ms")})


# ---------------------------------------------------------------------------------------------------- entry
def main(argv: list[str]) -> int:
    if argv[:1] == ["drive"]:
        drive(Path(argv[1]), Path(argv[2]))
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.load")
    parser.add_argument("--shoppers", type=int, default=100)
    parser.add_argument("--chaos", action="store_true", help="inject faults throughout the run")
    parser.add_argument("--log", type=Path, help="write the stack's log lines (JSON) here")
    args = parser.parse_args(argv)
    with contextlib.redirect_stdout(io.StringIO()):  # the functions' metrics (EMF) go to stdout, as in Lambda
        result = run(args.shoppers, args.chaos, args.log)
    out = RESULTS / ("chaos.json" if args.chaos else "load.json")
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({k: result[k] for k in ("throughput", "webhook_answer_ms", "checks")}, indent=2,
                     ensure_ascii=False))
    print(f"written to {out.relative_to(ROOT)}")
    return 0 if result["checks"]["passed"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
