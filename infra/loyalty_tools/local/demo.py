"""`loyalty local demo`: a shopper's journey against the local stack, printed as a chat.

Join with /start, share the phone, register a receipt from Wildberries with the brand's goods, then send
the same receipt again. Exits 0 only if the balance is what the program promises and the duplicate earned
nothing.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
from pathlib import Path
from typing import Any, TextIO

from loyalty.adapters.dynamo import from_item, to_item
from loyalty.config import load_program
from loyalty.domain.messages import points_word
from loyalty.domain.points import accrual_points
from loyalty_tools.local.receipts import marketplace_receipt, qr_of
from loyalty_tools.local.shopper import Shopper
from loyalty_tools.local.stack import ROOT, LocalStack

PROGRAM = ROOT / "program" / "program.yaml"
LOG_FILE = ROOT / ".local" / "demo.log"


def run_demo(out: TextIO = sys.stdout) -> int:
    program = load_program(PROGRAM)
    LOG_FILE.parent.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as receipts_dir, LOG_FILE.open("w", encoding="utf-8") as log:
        raw = marketplace_receipt(program.brand.supplier_inns[0], [
            ("Лепесток крем для рук 50 мл", 45_000, 2),
            ("Лепесток сыворотка для лица 30 мл", 129_000, 1),
        ], fd=random.randint(1000, 999_999))  # noqa: S311 - a fresh receipt each run, not a secret
        (Path(receipts_dir) / "wildberries.json").write_text(json.dumps(raw, ensure_ascii=False), "utf-8")
        qr = qr_of(raw)
        expected = accrual_points(raw["totalSum"], program.earning.base_percent)

        print("Starting the local stack (moto server, Telegram and receipt-service emulators)…", file=out)
        with LocalStack(receipts_dir=Path(receipts_dir), log_stream=log) as stack:
            anna = Shopper(stack.telegram.url, user_id=random.randint(10**8, 10**9))  # noqa: S311
            anna.say("/start")
            anna.wait_for_bot_messages(1)
            anna.share_phone("+7 916 123-45-67")
            anna.wait_for_bot_messages(2)
            anna.say(qr)
            anna.wait_for_bot_messages(4)
            anna.say(qr)
            anna.wait_for_bot_messages(6)
            stack.wait_idle()
            member = from_item(stack.aws("dynamodb").get_item(
                TableName="MembersTable", Key=to_item({"member_id": str(anna.chat_id)}))["Item"])
            print(f"\nWebhook: {stack.webhook_url}\n", file=out)
            for entry in anna.transcript():
                print(_line(entry), file=out)

    balance = member["balance"]
    print(f"\nFinal balance: {balance} {points_word(balance)} "
          f"(expected {expected}: {program.earning.base_percent}% of {raw['totalSum'] // 100} ₽, "
          "and nothing for the duplicate).", file=out)
    print(f"Function logs: {LOG_FILE.relative_to(ROOT)}", file=out)
    return 0 if balance == expected else 1


def _line(entry: dict[str, Any]) -> str:
    if entry["from"] == "shopper":
        if "contact" in entry:
            phone = entry["contact"]["phone_number"]
            return f"  shopper › [shares contact {phone[:6]}…{phone[-2:]}]"
        return f"  shopper › {entry.get('text', '')}"
    text = entry["text"].replace("\n", "\n            ")
    markup = entry.get("reply_markup") or {}
    buttons = [button["text"] for row in markup.get("keyboard", []) for button in row]
    return f"  bot     ‹ {text}" + (f"  [{' | '.join(buttons)}]" if buttons else "")
