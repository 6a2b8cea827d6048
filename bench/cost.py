"""What the program costs to run on AWS (`make bench SECTIONS=cost`), from what the local stack measures.

On the shipped program (Mindbox sync on), warmed up first, the local stack counts every AWS request the functions
make and every second each function spends in its handler, for three things a member does: send a receipt (QR
text, end to end, with its replies and CRM sync), tap the menu (`💰 Баланс`, with its reply), and be sent a message
(the campaign and follow-up path: a message through CampaignQueue and the Telegram sender). It also runs the
schedules once with nobody due, which is what a deployed stack does every 15 minutes with no traffic.

Those are priced at AWS's list prices for eu-central-1 (below, with the date they were read), billed as Lambda
arm64 at each function's memory size, into a month's bill by line: the idle month (schedules, queue polling, alarms,
the dashboard) and the month of 10,000 active members on top of it. Each line is given at list price and past the
free tier that does not expire (FREE_TIER). Local handler seconds run on moto, not DynamoDB, so they overstate
Lambda's durations; they are used as they are (an upper bound). Not counted: data transfer (small JSON), storage,
and the Telegram, receipt-service and Mindbox fees. The receipt's requests are also given by function.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections import Counter, defaultdict
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
    "ssm_standard_parameter_month": 0.0,  # the secrets: SecureString, standard tier
    "ssm_standard_throughput_call": 0.0,
    "kms_request": 0.03 / 1e4,  # decrypting a SecureString with the account's aws/ssm key
    "cloudwatch_alarm_month": 0.10,
    "cloudwatch_dashboard_month": 3.00,
    "cloudwatch_logs_gb": 0.63,
    "cloudwatch_metric_month": 0.30,  # a custom metric (EMF) that received data in the month
    "xray_trace": 5.00 / 1e6,
}
# AWS's free tier that does not expire, a month (read on the same date): what a brand's account gets whatever its age.
# DynamoDB's on-demand requests and the HTTP API have none that lasts.
FREE_TIER = {
    "lambda_requests": 1e6, "lambda_gb_seconds": 400_000, "sqs_requests": 1e6, "kms_requests": 20_000,
    "cloudwatch_alarms": 10, "cloudwatch_metrics": 10, "cloudwatch_dashboards": 3, "cloudwatch_logs_gb": 5,
    "xray_traces": 100_000,
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
Usage = defaultdict[str, float]  # billed units an action (or a month) uses
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
            # One member more warms the functions up, so that each measured member's receipt is their first of the
            # minute, as most receipts are (a second one within the minute, or a second half of one order, guesses
            # its write again: one request more each).
            warm, *members = [Shopper(stack.telegram.url, user_id=830_000 + n) for n in range(11)]
            for n, member in enumerate([warm, *members]):
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
                action(warm)
            stack.wait_idle(timeout=120)
            per = {"receipt": _measure(stack, members, receipt), "tap": _measure(stack, members,
                                                                                 lambda m: m.say("💰 Баланс")),
                   "message": _measure(stack, members, message)}
            idle = _measure(stack, [None], lambda _: stack.run_schedules())
            alarms = len(stack.template.of_type("AWS::CloudWatch::Alarm"))
            dashboards = len(stack.template.of_type("AWS::CloudWatch::Dashboard"))
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
    usage = {name: _usage(figures, memory) for name, figures in per.items()}
    metrics = _custom_metrics()
    # A quiet month: the schedules run every 15 minutes, every SQS event source long-polls its queue, the alarms and
    # the dashboard exist; no metric receives data.
    idle_usage = _scaled(_usage(idle, memory), SCHEDULE_RUNS_PER_MONTH)
    idle_usage["sqs_requests"] += len(polled) * IDLE_RECEIVES_PER_QUEUE_MONTH
    idle_usage.update(alarms=alarms, dashboards=dashboards)
    active_usage = defaultdict(float, idle_usage)
    for name, count in MONTHLY.items():
        for unit, amount in _scaled(usage[name], count * MEMBERS).items():
            active_usage[unit] += amount
    active_usage["metrics"] = metrics
    idle_lines, active_lines = _lines(idle_usage), _lines(active_usage)
    per_receipt = sum(line["list_usd"] for line in _lines(usage["receipt"]).values())
    saas_month = SAAS_RUB_PER_DAY * DAYS_PER_MONTH / RUB_PER_USD
    ours_month = sum(line["after_free_tier_usd"] for line in active_lines.values())
    return {
        "prices": {**PRICES, "read_on": PRICES_READ_ON, "rub_per_usd": RUB_PER_USD},
        "free_tier_a_month": FREE_TIER,
        "measured_per_action": {name: {**{k: round(v, 2) for k, v in sorted(figures["_requests"].items())},
                                       "aws_requests_from_functions": figures["aws_requests_from_functions"],
                                       "by_function": figures["by_function"],
                                       "invocations": figures["invocations"],
                                       "handler_ms": figures["handler_ms"]}
                                for name, figures in per.items()},
        "usd_per_1000_receipts": round(1000 * per_receipt, 4),
        "active_member_month": MONTHLY,
        "custom_metrics_published": metrics,
        "idle_month": _month(idle_lines),
        "month_of_10000_active_members": _month(active_lines),
        "queues_polled_by_lambda": {"standard": len(polled) - len(fifo), "fifo": len(fifo),
                                    "receives_each_a_month": IDLE_RECEIVES_PER_QUEUE_MONTH},
        "saas_100_rub_a_day": {"usd_per_month": round(saas_month, 2),
                               "ours_with_10000_members_usd_per_month": round(ours_month, 2),
                               "ours_to_saas": round(ours_month / saas_month, 2)},
        "note": "handler seconds are measured on moto (an upper bound for Lambda's); list prices, and what is left "
                "of them past the free tier that does not expire",
    }


def _month(lines: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {"lines": {name: {key: round(value, 4) for key, value in line.items()} for name, line in lines.items()},
            "total_list_usd": round(sum(line["list_usd"] for line in lines.values()), 2),
            "total_after_free_tier_usd": round(sum(line["after_free_tier_usd"] for line in lines.values()), 2)}


def _scaled(usage: Usage, times: float) -> Usage:
    return defaultdict(float, {name: value * times for name, value in usage.items()})


def _custom_metrics() -> int:
    """The metrics the functions publish: their fixed names (tests/unit/test_template.py holds that each is one the
    operations dashboard reads, and that no name is made from a value)."""
    code = "\n".join(path.read_text(encoding="utf-8") for folder in ("layers", "functions")
                     for path in (ROOT / folder).rglob("*.py"))
    return len(set(re.findall(r'add_metric\(name="(\w+)"', code)))


def _measure(stack: LocalStack, members: list[Any], action: Any) -> dict[str, Any]:
    """AWS requests and handler time per action, averaged over `members` doing it once each."""
    before, invocations, seconds = stack.moto.counter.snapshot(), Counter(stack.functions.invocations), \
        Counter(stack.functions.seconds)
    before_by_function = stack.moto.counter.snapshot_by_function()
    for member in members:
        action(member)
    stack.wait_idle(timeout=300)
    requests = stack.moto.counter.snapshot() - before
    n = len(members)
    by_operation: Counter[str] = Counter()
    for (caller, service, operation), count in requests.items():
        if caller == "functions":
            by_operation[f"{service}.{operation}"] += count
    by_function: dict[str, dict[str, float]] = {}
    for (function, service, operation), count in (stack.moto.counter.snapshot_by_function()
                                                  - before_by_function).items():
        by_function.setdefault(function, {})[f"{service}.{operation}"] = round(count / n, 2)
    called = Counter(stack.functions.invocations) - invocations
    spent = {name: (stack.functions.seconds[name] - seconds[name]) / n for name in called}
    return {"invocations": {name: round(count / n, 2) for name, count in sorted(called.items())},
            "handler_ms": {name: round(1000 * value, 1) for name, value in sorted(spent.items())},
            "by_function": {function: dict(sorted(ops.items())) for function, ops in sorted(by_function.items())},
            "aws_requests_from_functions": round(sum(sum(ops.values()) for ops in by_function.values()), 2),
            "_spent": spent, "_called": {name: count / n for name, count in called.items()},
            "_requests": {name: count / n for name, count in by_operation.items()}}


def _usage(figures: dict[str, Any], memory: dict[str, int]) -> Usage:
    """What one action uses of each billed unit: Lambda requests and GB-seconds, DynamoDB read and write units (a
    transaction's item counts twice), SQS requests, HTTP API requests, log gigabytes and traces."""
    usage: Usage = defaultdict(float)
    for name, count in figures["_requests"].items():
        service, operation = name.split(".", 1)
        if service == "dynamodb":
            if operation == "TransactWriteItems.items":
                usage["dynamodb_write_units"] += 2 * count
            elif operation in WRITES:
                usage["dynamodb_write_units"] += count
            elif operation in READS:
                usage["dynamodb_read_units"] += count
        elif service == "sqs":  # (a FIFO queue's requests cost a tenth of a cent a million more: not told apart)
            usage["sqs_requests"] += count
    for function, count in figures["_called"].items():
        usage["lambda_requests"] += count
        usage["log_gb"] += count * LOG_BYTES_PER_INVOCATION / 1e9
        usage["lambda_gb_seconds"] += figures["_spent"][function] * memory[function] / 1024
    # Each webhook call and API call passes API Gateway: the HTTP API (webhook, Mini App) at its price.
    usage["http_api_requests"] += figures["_called"].get("BotWebhookFunction", 0)
    usage["xray_traces"] += 1 if figures["_called"] else 0  # the action traced end to end (sampling records fewer)
    return usage


_UNITS = {  # usage -> (the line it bills on, its price, its free tier's key)
    "lambda_requests": ("lambda", "lambda_request", "lambda_requests"),
    "lambda_gb_seconds": ("lambda", "lambda_gb_second_arm64", "lambda_gb_seconds"),
    "dynamodb_write_units": ("dynamodb", "dynamodb_write_unit", None),
    "dynamodb_read_units": ("dynamodb", "dynamodb_read_unit", None),
    "sqs_requests": ("sqs", "sqs_request", "sqs_requests"),
    "http_api_requests": ("http_api", "http_api_request", None),
    "log_gb": ("logs", "cloudwatch_logs_gb", "cloudwatch_logs_gb"),
    "xray_traces": ("xray", "xray_trace", "xray_traces"),
    "alarms": ("alarms", "cloudwatch_alarm_month", "cloudwatch_alarms"),
    "dashboards": ("dashboard", "cloudwatch_dashboard_month", "cloudwatch_dashboards"),
    "metrics": ("custom_metrics", "cloudwatch_metric_month", "cloudwatch_metrics"),
}


def _lines(usage: Usage) -> dict[str, dict[str, Any]]:
    """A bill's lines: each at list price, and what is left past the free tier that does not expire. The secrets
    are SSM standard parameters (no charge) and their reads at standard throughput (none either)."""
    lines: dict[str, dict[str, Any]] = {}
    for unit, amount in usage.items():
        line, price, free = _UNITS[unit]
        billed = lines.setdefault(line, {"list_usd": 0.0, "after_free_tier_usd": 0.0})
        billed["list_usd"] += amount * PRICES[price]
        billed["after_free_tier_usd"] += max(0.0, amount - (FREE_TIER[free] if free else 0)) * PRICES[price]
    return dict(sorted(lines.items()))
