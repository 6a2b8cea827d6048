"""`loyalty`: the operator's command line."""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="loyalty", description="Loyalty Everywhere operator tools")
    commands = parser.add_subparsers(dest="command", required=True)
    local = commands.add_parser("local", help="the embedded local stack").add_subparsers(dest="action",
                                                                                        required=True)
    serve = local.add_parser("serve", help="run the local stack until Ctrl-C")
    serve.add_argument("--port", type=int, default=3000, help="port of the HTTP API (default 3000)")
    serve.add_argument("--receipts", type=Path, help="directory of receipt JSON files the receipt service serves")
    serve.add_argument("--program", type=Path, help="program file (default: program/program.yaml)")
    serve.add_argument("--telegram-token", help="a real (test) bot's token: its updates are polled from Telegram and "
                       "its replies sent there, while AWS and the receipt service stay local")
    demo = local.add_parser("demo", help="play a shopper's journey and print the conversation")
    demo.add_argument("--keep", action="store_true", help="keep the stack running afterwards, for the web chat")

    receipt = commands.add_parser("receipt", help="explain and decode receipts").add_subparsers(dest="action",
                                                                                              required=True)
    explain = receipt.add_parser("explain", help="why a receipt earns what it earns (JSON)")
    explain.add_argument("source", help="a receipt file (any shape), a photo, or a QR string")
    explain.add_argument("--program", type=Path, required=True, help="the program file")
    explain.add_argument("--now", type=_aware_time, help="judge as of this moment (ISO 8601; default: now)")
    explain.add_argument("--member", help="explain for this member, read (only) from the stack AWS_ENDPOINT_URL or "
                         "the AWS configuration points to; default: a new member at the entry level")
    decode = receipt.add_parser("decode", help="print the QR string found in each image")
    decode.add_argument("images", nargs="+")
    ledger = commands.add_parser("ledger", help="check and correct the points ledger").add_subparsers(
        dest="action", required=True)
    verify = ledger.add_parser("verify", help="prove every balance equals its ledger entries")
    adjust = ledger.add_parser("adjust", help="credit (or, negative, take) points by hand, with a reason")
    members = commands.add_parser("members", help="the members table").add_subparsers(dest="action", required=True)
    backfill = members.add_parser("backfill-facts", help="rebuild the facts campaigns target from the ledger "
                                  "(idempotent)")
    backfill.add_argument("--program", type=Path, default=Path("program/program.yaml"))
    export = members.add_parser("export", help="members, levels and balances for a CRM's bulk import (streamed)")
    export.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    load = members.add_parser("import", help="members and opening balances from another loyalty system, from a CSV "
                              "(phone,telegram_id,name,points,points_expire_on,level; idempotent)")
    load.add_argument("file", type=Path)
    load.add_argument("--report", type=Path, help="where the rejected rows go (default: FILE.rejected.csv)")
    load.add_argument("--workers", type=int, default=8, help="rows written at once")
    load.add_argument("--program", type=Path, default=Path("program/program.yaml"))
    campaign = commands.add_parser("campaign", help="campaigns: who they reach, running them, what they earned"
                                   ).add_subparsers(dest="action", required=True)
    dry = campaign.add_parser("dry-run", help="the audience a run would reach, sending nothing")
    run_one = campaign.add_parser("run", help="run it now (or --at), with a progress bar")
    stats = campaign.add_parser("stats", help="audience, delivered, blocked, converted, revenue, points (of a "
                                "campaign or a bot nudge)")
    for sub in (dry, run_one, stats):
        sub.add_argument("name")
        sub.add_argument("--program", type=Path, default=Path("program/program.yaml"))
        sub.add_argument("--campaigns-table", default=os.environ.get("CAMPAIGNS_TABLE", "CampaignsTable"))
        sub.add_argument("--campaign-queue-url", default=os.environ.get("CAMPAIGN_QUEUE_URL"))
        sub.add_argument("--crm-queue-url", default=os.environ.get("CRM_QUEUE_URL"))
    for sub in (dry, run_one):
        sub.add_argument("--at", type=_aware_time, help="as of this moment (ISO 8601; default: now)")
    for sub in (dry, stats):
        sub.add_argument("--json", action="store_true", help="one JSON object")
    report = commands.add_parser("report", help="what the program earns and costs: members, revenue by channel, "
                                 "points given, spent and owed")
    report.add_argument("--since", type=_moscow_time, help="from this day or moment (2026-11-01 is midnight in "
                        "Moscow; default: the start)")
    report.add_argument("--until", type=_moscow_time, help="up to, not including, this day or moment (default: now)")
    report.add_argument("--program", type=Path, default=Path("program/program.yaml"))
    report.add_argument("--json", action="store_true", help="one JSON object")
    report.add_argument("--campaigns-table", default=os.environ.get("CAMPAIGNS_TABLE", "CampaignsTable"))
    explain.add_argument("--claims-table", default=os.environ.get("CLAIMS_TABLE", "ReceiptClaimsTable"))
    for sub in (verify, adjust, explain, backfill, export, load, dry, run_one, stats, report):
        sub.add_argument("--members-table", default=os.environ.get("MEMBERS_TABLE", "MembersTable"))
        sub.add_argument("--ledger-table", default=os.environ.get("LEDGER_TABLE", "LedgerTable"))
    adjust.add_argument("member_id")
    adjust.add_argument("points", type=int)
    adjust.add_argument("--reason", required=True, help="why: it is kept in the entry and shown to the member")
    adjust.add_argument("--reference", required=True, help="a ticket number: the same reference adjusts once")
    adjust.add_argument("--program", type=Path, default=Path("program/program.yaml"))
    adjust.add_argument("--crm-queue-url", default=os.environ.get("CRM_QUEUE_URL"),
                        help="the stack's CrmQueueUrl output (default: the local stack's)")
    dlq = commands.add_parser("dlq", help="dead-letter queues: what they hold and why, and replaying them"
                              ).add_subparsers(dest="action", required=True)
    dlq_list = dlq.add_parser("list", help="every dead-letter queue and its count; with QUEUE, its messages and why")
    dlq_list.add_argument("queue", nargs="?", help="a dead-letter queue, or the queue it takes from (ReceiptQueue)")
    dlq_list.add_argument("--limit", type=int, default=50, help="messages shown (default 50)")
    dlq_redrive = dlq.add_parser("redrive", help="send every parked message back to the queue it came from")
    dlq_redrive.add_argument("queue", help="a dead-letter queue, or the queue it takes from (ReceiptQueue)")
    commands.add_parser("openapi", help="write docs/redemption-api.json from the redemption API's code")
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except Exception as error:
        problem = _one_line(error)
        if problem is None:
            raise
        print(f"error: {problem}", file=sys.stderr)
        return 2


def _one_line(error: Exception) -> str | None:
    """What an operator reads instead of a traceback, for the errors they can fix themselves (None: a bug)."""
    from botocore.exceptions import (
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
    )

    from loyalty.adapters.program_file import ProgramError
    from loyalty.domain.errors import StorageUnavailable

    if isinstance(error, NoRegionError):
        return "no AWS region: set AWS_DEFAULT_REGION (eu-central-1, say)"
    if isinstance(error, (NoCredentialsError, PartialCredentialsError)):
        return "no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    if isinstance(error, StorageUnavailable):  # the adapters' word for AWS out of reach
        error = error.__cause__ if isinstance(error.__cause__, Exception) else error
    if isinstance(error, (EndpointConnectionError, StorageUnavailable)):
        where = error.kwargs.get("endpoint_url", "AWS") if isinstance(error, EndpointConnectionError) else "AWS"
        return f"cannot reach {where}: is the stack running, and AWS_ENDPOINT_URL (if set) right?"
    if isinstance(error, ClientError):
        code, message = error.response["Error"].get("Code", ""), error.response["Error"].get("Message", "")
        return f"AWS refused: {code}: {message} (check the table names and the credentials' permissions)"
    from loyalty_tools.dlq_cli import UnknownQueue

    if isinstance(error, (ProgramError, FileNotFoundError, UnknownQueue)):
        return str(error)
    return None


def _run(args: argparse.Namespace) -> int:
    if args.command == "dlq":
        from loyalty_tools import dlq_cli

        if args.action == "redrive":
            return dlq_cli.redrive(args.queue)
        return dlq_cli.list_messages(args.queue, args.limit) if args.queue else dlq_cli.list_queues()
    if args.command == "report":
        from loyalty_tools import report_cli

        return report_cli.report(args.program, args.members_table, args.ledger_table, args.campaigns_table,
                                 args.since, args.until, args.json)
    if args.command == "openapi":
        from loyalty_tools import openapi

        return openapi.write()
    if args.command == "ledger":
        from loyalty_tools import ledger_cli

        if args.action == "verify":
            return ledger_cli.verify(args.members_table, args.ledger_table)
        return ledger_cli.adjust(args.members_table, args.ledger_table, args.program, args.member_id, args.points,
                                 args.reason, args.reference, args.crm_queue_url)

    if args.command == "campaign":
        from loyalty_tools import campaign_cli

        stack = campaign_cli.Stack(args.program, args.members_table, args.ledger_table, args.campaigns_table,
                                   args.campaign_queue_url, args.crm_queue_url)
        if args.action == "dry-run":
            return campaign_cli.dry_run(stack, args.name, args.at, args.json)
        if args.action == "run":
            return campaign_cli.run(stack, args.name, args.at)
        return campaign_cli.stats(stack, args.name, args.json)
    if args.command == "members":
        from loyalty_tools import members_cli

        if args.action == "export":
            return members_cli.export(args.members_table, output_format=args.format)
        if args.action == "import":
            return members_cli.import_members(args.file, args.members_table, args.ledger_table, args.program,
                                              args.report, args.workers)
        return members_cli.backfill_facts(args.members_table, args.ledger_table, args.program)
    if args.command == "receipt":
        from loyalty_tools import receipt_cli

        if args.action == "explain":
            tables = receipt_cli.Tables(args.members_table, args.ledger_table, args.claims_table)
            return receipt_cli.explain(args.source, args.program, args.now, member_id=args.member, tables=tables)
        return receipt_cli.decode(args.images)
    if args.action == "demo":
        from loyalty_tools.local.demo import run_demo

        return run_demo(keep=args.keep)
    return _serve(args.port, args.receipts, args.program, args.telegram_token)


def _aware_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _moscow_time(text: str) -> datetime:
    """A marketer's date: a day without a zone is Moscow's."""
    from loyalty.domain.receipt import MOSCOW

    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=MOSCOW)


def _serve(port: int, receipts: Path | None, program: Path | None, telegram_token: str | None = None) -> int:
    from loyalty_tools.local.polling import PollingConflict, TelegramPoller
    from loyalty_tools.local.stack import LocalStack

    with LocalStack(receipts_dir=receipts, program_file=program, api_port=port, telegram_token=telegram_token) as stack:
        poller = None
        if telegram_token:
            try:
                poller = TelegramPoller(stack.real_telegram or "", telegram_token, stack.webhook_url,
                                        stack.webhook_secret).start()
                name = poller.call("getMe").get("username")
            except PollingConflict as error:
                print(f"error: {error}", file=sys.stderr)
                return 2
            except Exception as error:  # a wrong token, no internet: one line that says what to do
                print(f"error: Telegram refused the token or cannot be reached ({error}); check --telegram-token",
                      file=sys.stderr)
                return 2
            print(f"real Telegram:     @{name}, polled (write to it from your phone)")
        print(f"webhook:          {stack.webhook_url}")
        print(f"web chat:          {stack.telegram.url}/chat  (talk to the bot in a browser)")
        print(f"Mini App:          {stack.api.url}/miniapp/  (open it from the web chat's ☰ button)")
        print(f"redemption API:    {stack.api.url}  (x-api-key: {stack.api_key})")
        print(f"telegram emulator: {stack.telegram.url}  (transcripts: /emulator/chats/<chat_id>)")
        print(f"receipt service:   {stack.receipts.url}")
        print(f"Mindbox emulator:  {stack.mindbox.url}  (what it received: /emulator/state)")
        print(f"CRM webhook:       {stack.crm_webhook.url}  (what it received: GET /)")
        print(f"moto server:       {stack.moto.url}")
        print("Ctrl-C to stop.", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0
        finally:
            if poller is not None:
                poller.stop()


if __name__ == "__main__":
    sys.exit(main())
