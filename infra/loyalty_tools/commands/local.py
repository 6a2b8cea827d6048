"""`loyalty local serve | demo`: the embedded local stack."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from loyalty_tools.commands import Subcommands, group


def register(commands: Subcommands) -> None:
    local = group(commands, "local", "the embedded local stack")
    serve = local.add_parser("serve", help="run the local stack until Ctrl-C")
    serve.add_argument("--port", type=int, default=3000, help="port of the HTTP API (default 3000)")
    serve.add_argument("--receipts", type=Path, help="directory of receipt JSON files the receipt service serves")
    serve.add_argument("--program", type=Path, help="program file (default: program/program.yaml)")
    serve.add_argument("--telegram-token", help="a real (test) bot's token: its updates are polled from Telegram and "
                       "its replies sent there, while AWS and the receipt service stay local")
    serve.set_defaults(run=lambda args: _serve(args.port, args.receipts, args.program, args.telegram_token))
    demo = local.add_parser("demo", help="play a shopper's journey and print the conversation")
    demo.add_argument("--keep", action="store_true", help="keep the stack running afterwards, for the web chat")
    demo.set_defaults(run=_demo)


def _demo(args: argparse.Namespace) -> int:
    from loyalty_tools.local.demo import run_demo

    return run_demo(keep=args.keep)


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
