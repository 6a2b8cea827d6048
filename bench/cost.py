"""What the program costs to run on AWS (`make bench SECTIONS=cost`), from what the local stack measures.

On the shipped program (Mindbox sync on), warmed up first, the local stack counts every AWS request the functions
make and every second each function spends in its handler, for three things a member does: send a receipt (QR
text, end to end, with its replies and CRM sync), tap the menu (`💰 Баланс`, with its reply), and be sent a message
(the campaign and follow-up path: a message through CampaignQueue and the Telegram sender). It also runs the
schedules once with nobody due, which is what a deployed stack does every 15 minutes with no traffic.

Those are priced at AWS's list prices for eu-central-1 (below, with the date they were read), billed as Lambda
arm64 at each function's memory size. Local handler seconds run on moto, not DynamoDB, so they overstate Lambda's
durations; they are used as they are (an upper bound). Not counted: the free tier, data transfer (small JSON),
and the Telegram, receipt-service and Mindbox fees.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from loyalty_tools.local.receipts import marketplace_receipt, qr_of
from loyalty_tools.local.shopper import Shopper
from loyalty_tools.local.stack import ROOT, LocalStack

PRICES_READ_ON = "2026-11-30 (list prices for eu-central-1, Frankfurt, as published on aws.amazon.com/pricing)"
PRICES = {
    "lambda_request": 0.20 / 1e6,
    "lambda_gb_second_arm64": 0.0000133334,
    "dynamodb_write_unit": 0.7625 / 1e6,  # on-demand, after the November 2024 price cut
    "dynamodb_read_unit": 0.1525 / 1e6,
    "sqs_request": 0.40 / 1e6,  # standard; a FIFO request is 0.50
    "sqs_fifo_request": 0.50 / 1e6,
    "http_api_request": 1.20 / 1e6,
    "rest_api_request": 4.25 / 1e6,
    "secrets_manager_secret_month": 0.40,
    "secrets_manager_call": 0.05 / 1e4,
    "cloudwatch_alarm_month": 0.10,
    "cloudwatch_logs_gb": 0.63,
    "cloudwatch_metric_month": 0.30,  # a custom metric (EMF) that received data in the month
    "xray_trace": 5.00 / 1e6,
}
RUB_PER_USD = 90.0  # an assumption: the rate of the day moves the comparison, not the model
SAAS_RUB_PER_DAY = 100.0
DAYS_PER_MONTH = 30.42
SCHEDULE_RUNS_PER_MONTH = 4 * 24 * DAYS_PER_MONTH  # rate(15 minutes)
# A Lambda SQS event source polls each queue with long polls whether or not anything arrives: five pollers, each a
# 20-second ReceiveMessage, is AWS's documented starting point.
IDLE_RECEIVES_PER_QUEUE_MONTH = 5 * 3 * 60 * 24 * DAYS_PER_MONTH
LOG_BYTES_PER_INVOCATION = 1500  # START/END/REPORT plus a structured line or two, measured from the local logs
# What an active member does in a month (an assumption, stated): receipts, menu taps, messages received.
MONTHLY = {"receipt": 2, "tap": 6, "message": 8}
MEMBERS = 10_000
READS = {"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems.items"}
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"}


def cost_figures() -> dict[str, Any]:
    document = yaml.safe_load((ROOT / "program" / "program.yaml").read_text(encoding="utf-8"))
    document["receipts"]["max_per_day"] = 50
    with tempfile.TemporaryDirectory() as tmp, open(os.devnull, "w") as quiet:
        program = Path(tmp) / "program.yaml"
        program.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
        with LocalStack(receipts_dir=Path(tmp), program_file=program, log_stream=quiet) as stack:
            memory = {spec.logical_id: spec.memory for spec in stack.template.functions()}
            consumers = {spec.logical_id for spec in stack.template.functions() if spec.queues}
            members = [Shopper(stack.telegram.url, user_id=830_000 + n) for n in range(10)]
            for n, member in enumerate(members):
                member.say("/start")
                member.share_phone(f"+7916{n:07d}")
            stack.wait_idle(timeout=120)
            receipts = iter(range(1_000_000))
            supplier = document["brand"]["supplier_inns"][0]

            def receipt(member: Shopper) -> None:
                raw = marketplace_receipt(supplier, [("Лепесток крем для рук 50 мл", 45_000, 1)],
                                          fd=50_000 + next(receipts), issued_at=stack.now() - timedelta(hours=1))
                stack.receipts.add(raw)
                member.say(qr_of(raw))

            def message(member: Shopper) -> None:
                from loyalty.contracts import CampaignMessage

                stack.aws("sqs").send_message(QueueUrl=stack.template.queue_url("CampaignQueue"), MessageBody=(
                    CampaignMessage(campaign="bench", touch=f"bench:{member.chat_id}:{next(receipts)}",
                                    member_id=str(member.chat_id), chat_id=member.chat_id, text="Весна: −20%",
                                    goal_days=7)
                    .model_dump_json()))

            for action in (receipt, message):  # warm every function up: cold imports are not a month's cost
                action(members[0])
            stack.wait_idle(timeout=120)
            per = {"receipt": _measure(stack, members, receipt), "tap": _measure(stack, members,
                                                                                 lambda m: m.say("💰 Баланс")),
                   "message": _measure(stack, members, message)}
            idle = _measure(stack, [None], lambda _: stack.run_schedules())
            alarms = len(stack.template.of_type("AWS::CloudWatch::Alarm"))
            secrets = sum(1 for name in stack.template.parameters if name.endswith("SecretName"))
            polled = {source.queue for spec in stack.template.functions() for source in spec.queues}
            fifo = {queue for queue in polled if stack.template.queue_name(queue).endswith(".fifo")}
    # What the local pollers do for Lambda (their requests are not the functions'): each message a queue-driven
    # function takes is a ReceiveMessage and a DeleteMessage on the account's bill. And a campaign message is put on
    # CampaignQueue by the campaigns run (here, by the bench): one SendMessage more.
    for figures in (*per.values(), idle):
        for function, count in figures["_called"].items():
            if function in consumers:
                figures["_requests"]["sqs.ReceiveMessage+DeleteMessage"] = \
                    figures["_requests"].get("sqs.ReceiveMessage+DeleteMessage", 0) + 2 * count
    per["message"]["_requests"]["sqs.SendMessage"] = per["message"]["_requests"].get("sqs.SendMessage", 0) + 1
    dollars = {name: _dollars(figures, memory) for name, figures in per.items()}
    metrics = _custom_metrics()
    per_member = sum(MONTHLY[name] * dollars[name] for name in MONTHLY)
    month_of_members = per_member * MEMBERS + metrics * PRICES["cloudwatch_metric_month"]
    idle_month = {
        "alarms": alarms * PRICES["cloudwatch_alarm_month"],
        "secrets": secrets * PRICES["secrets_manager_secret_month"],
        "queue_polling": (len(polled) - len(fifo)) * IDLE_RECEIVES_PER_QUEUE_MONTH * PRICES["sqs_request"]
        + len(fifo) * IDLE_RECEIVES_PER_QUEUE_MONTH * PRICES["sqs_fifo_request"],
        "schedules": SCHEDULE_RUNS_PER_MONTH * _dollars(idle, memory),
    }
    idle_total = sum(idle_month.values())
    saas_month = SAAS_RUB_PER_DAY * DAYS_PER_MONTH / RUB_PER_USD
    ours_month = idle_total + month_of_members
    return {
        "prices": {**PRICES, "read_on": PRICES_READ_ON, "rub_per_usd": RUB_PER_USD},
        "measured_per_action": {name: {**{k: round(v, 2) for k, v in sorted(figures["_requests"].items())},
                                       "invocations": figures["invocations"],
                                       "handler_ms": figures["handler_ms"], "usd": round(dollars[name], 8)}
                                for name, figures in per.items()},
        "usd_per_1000_receipts": round(1000 * dollars["receipt"], 4),
        "usd_per_month_10000_active_members": round(month_of_members, 2),
        "active_member_month": MONTHLY,
        "custom_metrics_billed_when_active": metrics,
        "idle_usd_per_month": {**{k: round(v, 3) for k, v in idle_month.items()}, "total": round(idle_total, 2)},
        "saas_100_rub_a_day": {"usd_per_month": round(saas_month, 2),
                               "ours_with_10000_members_usd_per_month": round(ours_month, 2),
                               "ours_to_saas": round(ours_month / saas_month, 2),
                               "members_at_which_ours_costs_the_same": int(
                                   (saas_month - idle_total - metrics * PRICES["cloudwatch_metric_month"])
                                   / per_member)},
        "note": "handler seconds are measured on moto (an upper bound for Lambda's); the free tier is not counted",
    }


def _custom_metrics() -> int:
    """The metrics the functions publish (each with its function's `service` dimension): the fixed names in the
    code, one per refusal reason and one per kind of scheduled settlement."""
    from loyalty.domain.decision import REFUSALS

    code = "\n".join(path.read_text(encoding="utf-8") for folder in ("layers", "functions")
                     for path in (ROOT / folder).rglob("*.py"))
    fixed = set(re.findall(r'add_metric\(name="(\w+)"', code))
    scheduled_kinds = 5  # activations, reminders, expiries, stale holds, level reviews (flows/schedule.py)
    return len(fixed) + len(REFUSALS) + scheduled_kinds


def _measure(stack: LocalStack, members: list[Any], action: Any) -> dict[str, Any]:
    """AWS requests and handler time per action, averaged over `members` doing it once each."""
    before, invocations, seconds = stack.moto.counter.snapshot(), Counter(stack.functions.invocations), \
        Counter(stack.functions.seconds)
    for member in members:
        action(member)
    stack.wait_idle(timeout=300)
    requests = stack.moto.counter.snapshot() - before
    n = len(members)
    by_operation: Counter[str] = Counter()
    for (caller, service, operation), count in requests.items():
        if caller == "functions":
            by_operation[f"{service}.{operation}"] += count
    called = Counter(stack.functions.invocations) - invocations
    spent = {name: (stack.functions.seconds[name] - seconds[name]) / n for name in called}
    return {"invocations": {name: round(count / n, 2) for name, count in sorted(called.items())},
            "handler_ms": {name: round(1000 * value, 1) for name, value in sorted(spent.items())},
            "_spent": spent, "_called": {name: count / n for name, count in called.items()},
            "_requests": {name: count / n for name, count in by_operation.items()}}


def _dollars(figures: dict[str, Any], memory: dict[str, int]) -> float:
    requests, usd = figures["_requests"], 0.0
    for name, count in requests.items():
        service, operation = name.split(".", 1)
        if service == "dynamodb":
            if operation == "TransactWriteItems.items":
                usd += 2 * count * PRICES["dynamodb_write_unit"]
            elif operation in WRITES:
                usd += count * PRICES["dynamodb_write_unit"]
            elif operation in READS:
                usd += count * PRICES["dynamodb_read_unit"]
        elif service == "sqs":  # (a FIFO queue's requests cost a tenth of a cent a million more: not told apart)
            usd += count * PRICES["sqs_request"]
        elif service == "secretsmanager":
            usd += count * PRICES["secrets_manager_call"]
    for function, count in figures["_called"].items():
        usd += count * PRICES["lambda_request"] + count * LOG_BYTES_PER_INVOCATION / 1e9 * PRICES["cloudwatch_logs_gb"]
        usd += figures["_spent"][function] * memory[function] / 1024 * PRICES["lambda_gb_second_arm64"]
    # Each webhook call and API call passes API Gateway: the HTTP API (webhook, Mini App) at its price.
    usd += figures["_called"].get("BotWebhookFunction", 0) * PRICES["http_api_request"]
    return float(usd + PRICES["xray_trace"])  # the action traced end to end (sampling would record fewer)
