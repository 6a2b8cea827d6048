"""`loyalty local demo`: a shopper's journey against the local stack, printed as a chat.

Join with /start and share the phone (a welcome bonus), register a receipt from Wildberries with the
brand's goods (its points wait out the return window, and the first receipt raises the level), send the same
receipt again (it earns nothing), then 15 days later the points become available; ask for the balance,
a promo code for the brand's site and the history. Exits 0 only if the balances are what the program
promises.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from loyalty.adapters.dynamo import from_item, to_item
from loyalty.config import load_program
from loyalty.contracts import PurchaseLine
from loyalty.domain.matching import match_brand_goods
from loyalty.domain.messages import points_word
from loyalty.domain.points import purchase_points
from loyalty.domain.receipt import normalise_one
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
        lines = [PurchaseLine(name=line.name, sum_kopecks=line.sum_kopecks, quantity=line.quantity, gtin=line.gtin,
                              category=line.category) for line in match_brand_goods(normalise_one(raw), program).lines]
        earned = purchase_points(lines, program, program.levels[0].percent)
        promo = 200
        expected = program.bonuses.welcome + earned - promo

        print("Starting the local stack (moto server, Telegram and receipt-service emulators)…", file=out)
        with LocalStack(receipts_dir=Path(receipts_dir), log_stream=log) as stack:
            anna = Shopper(stack.telegram.url, user_id=random.randint(10**8, 10**9))  # noqa: S311
            anna.say("/start")
            anna.wait_for_bot_messages(1)
            anna.share_phone("+7 916 123-45-67")
            anna.wait_for_bot_messages(2)
            anna.say(qr)
            anna.wait_for_bot_messages(4)
            anna.wait_for_bot_messages(6)
            anna.say(qr)
            anna.wait_for_bot_messages(8)
            stack.wait_idle()
            later = datetime.now(UTC) + timedelta(days=15)
            mark = len(anna.transcript())
            stack.run_schedules(at=later)
            anna.wait_for_bot_messages(9)
            for command, count in (("/balance", 10), (f"/promo {promo}", 11), ("/history", 12)):
                anna.say(command)
                anna.wait_for_bot_messages(count)
            stack.wait_idle()
            member = from_item(stack.aws("dynamodb").get_item(
                TableName="MembersTable", Key=to_item({"member_id": str(anna.chat_id)}))["Item"])
            print(f"\nWebhook: {stack.webhook_url}\n", file=out)
            for index, entry in enumerate(anna.transcript()):
                if index == mark:
                    print(f"\n  … {later:%d.%m}, the return window is over; the points schedule runs …\n", file=out)
                print(_line(entry), file=out)

    balance, held = member.get("available", 0), member.get("held", 0)
    print(f"\nAvailable: {balance} {points_word(balance)}, held for the promo code: {held} (expected {expected} = "
          f"welcome {program.bonuses.welcome} + {earned} for the receipt − {promo} for the promo code; nothing for "
          "the duplicate).", file=out)
    print(f"Function logs: {LOG_FILE.relative_to(ROOT)}", file=out)
    return 0 if (balance, held, member.get("pending", 0)) == (expected, promo, 0) else 1


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
