"""`loyalty local demo`: points everywhere, in about a minute, on the local stack and on one clock.

Anna joins the brand's bot and buys the brand's goods wherever she shops: on Wildberries (she sends the QR
code's text), on Ozon (a photo of the receipt), at Золотое Яблоко (the receipt file from the FNS app) and
on the brand's own site. The stack's clock moves between purchases hour by hour, the schedules and campaigns
running each hour as a deployed stack's do, so every message arrives on the day and at the hour the contact policy
lets it (never at night; several due together as one), and every ledger entry and /history line is dated on it.
The return window passes, the schedule makes her points available, she asks
the bot for a promo code, and the brand's site spends it through the redemption API. A month without a
purchase later, the program's win-back campaign reminds her of her points.

The chat is printed as Anna sees it, then a table of her points in plain words. The run exits 1 if the
books are wrong: a balance that is not the sum of its ledger entries, or a receipt credited other than
`loyalty receipt explain` said it would be.
"""

from __future__ import annotations

import json
import random
import sys
import time
from datetime import datetime, timedelta
from typing import Any, TextIO

from loyalty.adapters.dynamo import from_item, to_item
from loyalty.adapters.program_file import load_program
from loyalty.domain.program import Program
from loyalty.domain.receipt import MOSCOW, normalise_one
from loyalty.domain.wallet import stored
from loyalty_tools.local.receipts import fns_app_export, marketplace_receipt, qr_of, shop_receipt
from loyalty_tools.local.shopper import Shopper
from loyalty_tools.local.site import Site
from loyalty_tools.local.stack import ROOT, LocalStack
from loyalty_tools.receipt_cli import Member, explanation
from loyalty_tools.receipt_photos import Defects, receipt_photo

PROGRAM = ROOT / "program" / "program.yaml"
LOG_FILE = ROOT / ".local" / "demo.log"
OZON_INN, GOLDEN_APPLE_INN = "7704217370", "6671156423"
PROMO_POINTS = 300
MONTHS = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
          "ноября", "декабря")


DEMO_OWNER = 5_000_002  # the demo brand's first console owner (the template parameter ConsoleOwnerTelegramId)


def console_link(stack: LocalStack, user_id: int, name: str) -> str:
    """What the bot answers `user_id` sending /console: the one-time sign-in link under its answer."""
    person = Shopper(stack.telegram.url, user_id, first_name=name)
    person.say("/console")
    stack.wait_idle()
    answer = [entry for entry in person.transcript() if entry["from"] == "bot"][-1]
    return str(answer["reply_markup"]["inline_keyboard"][0][0]["url"])


def run_demo(out: TextIO = sys.stdout, keep: bool = False) -> int:
    """Play the story and check the books; with `keep`, the stack stays up afterwards for the web chat (Ctrl-C)."""
    program = load_program(PROGRAM)
    LOG_FILE.parent.mkdir(exist_ok=True)
    print("Запускаю локальный стенд (moto, эмуляторы Telegram и сервиса чеков)…", file=out, flush=True)
    with LOG_FILE.open("w", encoding="utf-8") as log, \
            LocalStack(log_stream=log, parameter_overrides={"ConsoleOwnerTelegramId": str(DEMO_OWNER)}) as stack:
        demo = Demo(stack, program, out)
        demo.play()
        result = demo.check()
        chat = f"{stack.telegram.url}/chat?user={demo.anna.chat_id}"
        if not keep:
            print("\nПоговорить с ботом самому: make demo ARGS=--keep — и откройте веб-чат в браузере.", file=out)
            return result
        print(f"\nВеб-чат с ботом: {chat}  (чат Анны; ☰ — её мини-приложение). Ctrl-C — остановить.",
              file=out, flush=True)
        print(f"Консоль бренда, вход владельца (Ольга): {console_link(stack, DEMO_OWNER, 'Ольга')}\n"
              f"  ссылка действует 5 минут и открывается один раз; новая — /console в чате Ольги: "
              f"{stack.telegram.url}/chat?user={DEMO_OWNER}", file=out, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return result


class Demo:
    def __init__(self, stack: LocalStack, program: Program, out: TextIO):
        self.stack, self.program, self.out = stack, program, out
        self.anna = Shopper(stack.telegram.url, user_id=random.randint(10**8, 10**9))  # noqa: S311 - not a secret
        self.site = Site(stack.api.url, stack.api_key)
        self.fd = random.randint(1000, 900_000)  # noqa: S311 - fresh fiscal numbers each run, not a secret
        self.printed = 0
        self.explained: dict[str, int] = {}  # fiscal key -> the points `receipt explain` promised
        self.start = _evening(stack)  # day 0 of the story: the next 21:30 in Moscow
        self.shown = self.start.astimezone(MOSCOW).date()  # the day the chat was last shown on
        # What the hourly runs sent her (not answers to what she did), with the hour of the run that sent each: the
        # moment the contact policy chose, whatever the time Telegram took to show it.
        self.letters: list[tuple[datetime, dict[str, Any]]] = []

    # ------------------------------------------------------------------ the story
    def play(self) -> None:
        anna, supplier, brand = self.anna, self.program.brand.supplier_inns[0], self.program.brand
        evening = self.start
        self.day(0, "вечером Анна находит бота бренда и вступает в программу")
        anna.say("/start")
        self.idle()
        anna.share_phone("+7 916 123-45-67")
        self.settle()

        self.day(0, "покупка на Wildberries: Анна отправляет текст QR-кода с чека", minutes=5)
        wildberries = self.receipt(marketplace_receipt(supplier, [
            ("Лепесток крем для рук 50 мл", 45_000, 2), ("Лепесток сыворотка для лица 30 мл", 129_000, 1),
        ], fd=self.next_fd(), issued_at=evening - timedelta(minutes=30)))
        anna.say(qr_of(wildberries))
        self.settle()
        anna.say(qr_of(wildberries))  # the same receipt again
        self.settle()

        self.day(0, "и заказ с Ozon того же вечера: Анна фотографирует QR-код на чеке", minutes=15)
        ozon = self.receipt(marketplace_receipt(supplier, [("Лепесток крем для рук 50 мл", 47_000, 1)],
                                                fd=self.next_fd(), seller_inn=OZON_INN, seller="ООО «Интернет Решения»",
                                                retail_place="ozon.ru", issued_at=evening - timedelta(minutes=15)))
        anna.send_photo(receipt_photo(qr_of(ozon), Defects(rotate=-7, tilt=0.05, width=1080)))
        self.settle()

        self.day(5, "покупка в Золотом Яблоке: Анна пересылает чек из приложения ФНС «Мои чеки онлайн»")
        golden_apple = self.receipt(shop_receipt(GOLDEN_APPLE_INN, "ООО «Голден Эппл»", "Золотое Яблоко, ТЦ Атриум", [
            (brand.catalog[1].name, 135_000, 1, brand.catalog[1].gtin), ("Ватные диски 120 шт", 19_900, 1, None),
        ], fd=self.next_fd(), fn="7380440800000031", issued_at=self.purchase_time()))
        anna.send_file(json.dumps(fns_app_export(golden_apple), ensure_ascii=False).encode(), "check.json")
        self.settle()

        self.day(6, "покупка на сайте бренда: Анна отправляет QR-код электронного чека")
        site = self.receipt(shop_receipt(brand.inns[0], f"ООО «{brand.name}»", "lepestok.ru", [
            (brand.catalog[0].name, 45_000, 1, brand.catalog[0].gtin),
        ], fd=self.next_fd(), fn="7380440800000048", issued_at=self.purchase_time()))
        anna.say(qr_of(site))
        self.settle()

        # The return windows of both marketplace orders end late in the evening: the two messages wait for the
        # morning and go as one.
        self.day(14, "срок возврата на маркетплейсах прошёл вечером: баллы доступны, сообщение ждёт утра", hour=22)
        self.live_until(self.moment(15, hour=11))
        anna.say("/balance")
        self.settle()

        self.day(18, "Анна берёт промокод и оплачивает им заказ на сайте бренда")
        anna.say(f"/promo {PROMO_POINTS}")
        self.settle()
        code = self.last_bot_text().splitlines()[0].rsplit(" ", 1)[-1]
        status, paid = self.site.post(f"/promo-codes/{code}/redeem", {"order_id": "lepestok-1042"})
        print(f"  {self.stack.now().astimezone(MOSCOW):%H:%M} сайт › заказ lepestok-1042 оплачен промокодом {code}: "
              f"{paid.get('points')} баллов (HTTP {status}, {paid.get('status')})", file=self.out)
        anna.say("/history")
        self.settle()

        self.day(36, "месяц без покупок: кампания «winback» из программы напоминает Анне о баллах", hour=9)
        self.live_until(self.moment(36, hour=12))

    # ------------------------------------------------------------------ the books
    def check(self) -> int:
        """The table in plain words; 0 only if the books are right."""
        member_id = str(self.anna.chat_id)
        item = self.member_item()
        entries = self.ledger_entries(member_id)
        by_source: dict[str, int] = {}
        for entry in entries:
            if entry["kind"] in ("accrual", "bonus"):
                details = entry["details"]
                source = f"сайт {self.program.brand.name}" if details.get("channel") == "d2c" \
                    else details.get("store") or details.get("label") or entry["kind"]
                challenges = details.get("challenge_points", 0)  # what the receipt completed is its own row
                by_source[source] = by_source.get(source, 0) + entry["points"] - challenges
                if challenges:
                    by_source["задания"] = by_source.get("задания", 0) + challenges
        spent = sum(entry["details"].get("spent", 0) for entry in entries if entry["kind"] == "commit")
        balance = {name: int(item.get(name, 0)) for name in ("available", "pending", "held")}
        rows = [*by_source.items(), ("", 0), ("Доступно", balance["available"]), ("Ожидают", balance["pending"]),
                ("В резерве", balance["held"]), ("Потрачено на сайте", spent)]
        print("\nБаллы Анны:", file=self.out)
        for label, points in rows:
            print(f"  {label:<28}{points:>6}" if label else "  " + "─" * 34, file=self.out)

        problems = self.problems(member_id, item, entries, spent) + self.crm_problems(member_id, balance, entries)
        self.stack.wait_idle()  # the figures function has read the tables' streams
        first = self.start.astimezone(MOSCOW).date()  # what the brand's marketer reads: the story's days
        code, report, error = self.stack.operator("report", "--since", first.isoformat(), "--until",
                                                  (self.stack.now().astimezone(MOSCOW).date()
                                                   + timedelta(days=1)).isoformat())
        if code == 0:
            print(f"\nЧто видит бренд (loyalty report):\n{report.rstrip()}", file=self.out)
        else:
            problems.append(f"loyalty report: {error.strip()[-500:]}")
        for problem in problems:
            print(f"ОШИБКА: {problem}", file=self.out)
        print(f"\nЛоги функций: {LOG_FILE.relative_to(ROOT)}", file=self.out)
        return 1 if problems else 0

    def problems(self, member_id: str, item: dict[str, Any], entries: list[dict[str, Any]], spent: int) -> list[str]:
        found = []
        credited = {entry["details"]["fiscal_key"]: entry["points"] - entry["details"].get("challenge_points", 0)
                    for entry in entries if entry["kind"] == "accrual"}  # a challenge's reward is not the receipt's
        if credited != self.explained:
            found.append(f"начислено {credited}, а receipt explain обещал {self.explained}")
        code, verified, error = self.stack.operator("ledger", "verify")  # the operator's check
        if code != 0:
            found.append(f"loyalty ledger verify: {verified.strip()} {error.strip()[-500:]}")
        total = sum(entry["points"] for entry in entries if entry["kind"] in ("accrual", "bonus"))
        expected = {"available": total - spent, "pending": 0, "held": 0}
        actual = {name: int(item.get(name, 0)) for name in expected}
        if actual != expected or spent != PROMO_POINTS:
            found.append(f"баланс {actual}, потрачено {spent}; ожидалось {expected}, потрачено {PROMO_POINTS}")
        return found

    def crm_problems(self, member_id: str, balance: dict[str, int], entries: list[dict[str, Any]]) -> list[str]:
        """What the brand's CRM (the Mindbox emulator) was told: the same customer, receipts and points."""
        self.stack.wait_idle()
        crm = self.stack.mindbox.state()
        customer = next((c for c in crm["customers"] if c["ids"].get("tgID") == member_id), None)
        orders = [o for o in crm["orders"] if o["customer"] == member_id]
        points = crm["balances"].get(member_id, 0)
        print(f"\nВ CRM (эмулятор Mindbox): клиент {'есть' if customer else 'НЕТ'}, чеков {len(orders)}, "
              f"баллов {points}, запросов {crm['counts'].get('requests', 0)}", file=self.out)
        receipts = sum(1 for entry in entries if entry["kind"] == "accrual")
        if customer is None or len(orders) != receipts or points != balance["available"] + balance["pending"]:
            return [f"CRM: чеков {len(orders)} из {receipts}, баллов {points} из "
                    f"{balance['available'] + balance['pending']}"]
        return []

    # ------------------------------------------------------------------ helpers
    def receipt(self, raw: dict[str, Any]) -> dict[str, Any]:
        """A receipt the receipt service will confirm, and what `receipt explain` says it earns Anna now."""
        self.stack.receipts.add(raw)
        receipt = normalise_one(raw)
        said = explanation(receipt, self.program, self.stack.now(), self.member())
        self.explained[str(receipt.key)] = said["points"]
        return raw

    def member(self) -> Member:
        item = self.member_item()
        return Member(member_id=item["member_id"], wallet=stored(item),
                      referred_by=item.get("referred_by"))

    def member_item(self) -> dict[str, Any]:
        response = self.stack.aws("dynamodb").get_item(
            TableName="MembersTable", Key=to_item({"member_id": str(self.anna.chat_id)}), ConsistentRead=True)
        return from_item(response["Item"])

    def ledger_entries(self, member_id: str) -> list[dict[str, Any]]:
        response = self.stack.aws("dynamodb").query(
            TableName="LedgerTable", KeyConditionExpression="member_id = :m", ConsistentRead=True,
            ExpressionAttributeValues=to_item({":m": member_id}))
        return [from_item(raw) for raw in response["Items"]]

    def moment(self, number: int, hour: int = 10, minutes: int = 0) -> datetime:
        """Day `number` of the story at `hour` (Moscow); day 0 is the evening the story starts."""
        if number == 0:
            return self.start + timedelta(minutes=minutes)
        day = self.start.astimezone(MOSCOW) + timedelta(days=number)
        return day.replace(hour=hour, minute=minutes, second=0, microsecond=0)

    def day(self, number: int, story: str, hour: int = 10, minutes: int = 0) -> None:
        """Live on to day `number` of the story (hour by hour, as a deployed stack does) and say what happens."""
        self.live_until(self.moment(number, hour, minutes))
        now = self.stack.now().astimezone(MOSCOW)
        self.shown = now.date()
        print(f"\n── {now.day} {MONTHS[now.month - 1]}: {story} ──", file=self.out, flush=True)

    def live_until(self, moment: datetime) -> None:
        """The hours up to `moment`, as a deployed stack lives them: each hour the points schedule and the campaigns
        run (the postman among them), and what they send is shown at its hour — the contact policy decides which
        hour that is."""
        hour = (self.stack.now() + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
        while hour <= moment:
            self.stack.travel(hour)
            if _sent_anything(self.stack.run_schedules(at=hour)):
                self.letters += [(hour, entry) for entry in self.settle() if entry["from"] == "bot"]
            hour += timedelta(hours=1)
        if moment > self.stack.now():
            self.stack.travel(moment)

    def purchase_time(self) -> datetime:
        return self.stack.now() - timedelta(hours=2)

    def next_fd(self) -> int:
        self.fd += 1
        return self.fd

    def idle(self) -> None:
        self.stack.wait_idle()

    def settle(self) -> list[dict[str, Any]]:
        """Wait until the stack is idle, then print what was said since the last time: those entries."""
        self.stack.wait_idle()
        transcript = self.anna.transcript()
        for entry in transcript[self.printed:]:
            day = datetime.fromtimestamp(entry["date"], MOSCOW)
            if day.date() != self.shown:  # a message on a day with no scene of its own
                self.shown = day.date()
                print(f"\n── {day.day} {MONTHS[day.month - 1]} ──", file=self.out, flush=True)
            print(_line(entry), file=self.out, flush=True)
        said, self.printed = transcript[self.printed:], len(transcript)
        return said

    def last_bot_text(self) -> str:
        return str(next(entry["text"] for entry in reversed(self.anna.transcript()) if entry["from"] == "bot"))


def _line(entry: dict[str, Any]) -> str:
    time = datetime.fromtimestamp(entry["date"], MOSCOW).strftime("%H:%M")
    if entry["from"] == "shopper":
        if "contact" in entry:
            return f"  {time} Анна › [делится номером телефона]"
        if "photo" in entry:
            return f"  {time} Анна › [фото чека]"
        if "document" in entry:
            return f"  {time} Анна › [файл чека]"
        return f"  {time} Анна › {entry.get('text', '')}"
    text = entry["text"].replace("\n", "\n" + " " * 15)
    markup = entry.get("reply_markup") or {}
    buttons = [button["text"] for row in markup.get("keyboard", []) for button in row]
    return f"  {time} бот  ‹ {text}" + (f"  [{' | '.join(buttons)}]" if buttons else "")


def _evening(stack: LocalStack) -> datetime:
    """The story starts at 21:30 in Moscow, so its evening shows what the bot keeps for the morning: the stack's
    clock moves on to the next one."""
    local = stack.now().astimezone(MOSCOW)
    evening = local.replace(hour=21, minute=30, second=0, microsecond=0)
    stack.travel(evening if evening > local else evening + timedelta(days=1))
    return stack.now()


def _sent_anything(ran: dict[str, Any]) -> bool:
    """Whether an hour's runs did anything a shopper could be sent: a wallet changed, a campaign reached someone,
    a letter went, waited or was dropped."""
    schedule = ran.get("PointsScheduleFunction") or {}
    campaigns = ran.get("CampaignsFunction") or {}
    return bool(schedule) or any(campaigns.get("campaigns", {}).values()) or bool(campaigns.get("followups"))
