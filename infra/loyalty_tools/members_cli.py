"""`loyalty members …`: operations on the members table: rebuilding campaign facts, importing members and their
balances from another loyalty system, and exporting members for a CRM's bulk import."""

from __future__ import annotations

import csv
import json
import sys
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as day_time
from pathlib import Path
from typing import Any, TextIO

from loyalty import clock
from loyalty.adapters.aws import client
from loyalty.adapters.dynamo import from_item
from loyalty.adapters.ledger import LedgerRepository, ledger_for
from loyalty.adapters.program_file import load_program
from loyalty.domain import postings
from loyalty.domain.bot_program import words
from loyalty.domain.errors import AlreadyRecorded
from loyalty.domain.ledger import OPENING_ENTRY, Kind, entry_of
from loyalty.domain.member import imported_member_id
from loyalty.domain.program import Program
from loyalty.domain.receipt import MOSCOW
from loyalty.domain.segments import source_of
from loyalty.domain.wallet import Wallet


def backfill_facts(members_table: str, ledger_table: str, program_path: Path, out: TextIO = sys.stdout) -> int:
    """Rebuild every member's campaign facts from their ledger entries. Idempotent: a member whose facts are
    already right is not written, so a second run changes nothing."""
    ledger = ledger_for(load_program(program_path), ledger_table, members_table)
    members = rebuilt = 0
    for member_id in ledger.members():
        members += 1
        rebuilt += ledger.rewrite_facts(member_id)
    print(json.dumps({"members": members, "rebuilt": rebuilt, "unchanged": members - rebuilt}), file=out)
    return 0


EXPORTED = ("phone", "telegram_id", "level", "available", "pending", "held", "source")


def export(members_table: str, out: TextIO = sys.stdout, output_format: str = "csv") -> int:
    """Every member with their level and balances, one row each, streamed as the table is read (CSV with a
    header row, or JSON lines), with a progress bar on stderr."""
    from tqdm import tqdm

    writer = csv.DictWriter(out, fieldnames=EXPORTED, lineterminator="\n") if output_format == "csv" else None
    if writer is not None:
        writer.writeheader()
    names = {f"#{name}": name for name in ("member_id", "chat_id", "phone", "level", "available", "pending", "held",
                                           "joined_via", "referred_by")}
    with tqdm(desc="members", unit="member", file=sys.stderr) as bar:
        for page in client("dynamodb").get_paginator("scan").paginate(
            TableName=members_table, ProjectionExpression=", ".join(names), ExpressionAttributeNames=names,
        ):
            for item in map(from_item, page["Items"]):
                row = {"phone": item.get("phone"), "telegram_id": item.get("chat_id"), "level": item.get("level"),
                       **{name: int(item.get(name, 0)) for name in ("available", "pending", "held")},
                       "source": source_of(item)}
                if writer is not None:
                    writer.writerow(row)
                else:
                    print(json.dumps(row, ensure_ascii=False), file=out)
                bar.update(1)
    return 0


# ---------------------------------------------------------------- import
COLUMNS = ("phone", "telegram_id", "name", "points", "points_expire_on", "level")


@dataclass(frozen=True)
class Row:
    number: int  # in the file, the header being row 1
    phone: str
    telegram_id: int | None
    name: str | None
    points: int
    expires_at: datetime | None
    level: str | None


class Rejected(ValueError):
    """A row that cannot be imported, with the reason the report gives."""


def read_row(program: Program, number: int, raw: dict[str, str | None], now: datetime) -> Row:
    """One CSV row, checked: a bad phone, a negative balance, an unknown level… each raise Rejected."""
    def cell(name: str) -> str:
        return (raw.get(name) or "").strip()

    phone = normalised_phone(cell("phone"))
    if phone is None:
        raise Rejected(f"bad phone {cell('phone')!r}: a Russian mobile number, e.g. +79161234567")
    telegram_id = None
    if cell("telegram_id"):
        if not cell("telegram_id").isdigit() or int(cell("telegram_id")) <= 0:
            raise Rejected(f"bad telegram_id {cell('telegram_id')!r}: a positive whole number")
        telegram_id = int(cell("telegram_id"))
    try:
        points = int(cell("points") or 0)
    except ValueError:
        raise Rejected(f"bad points {cell('points')!r}: a whole number") from None
    if points < 0:
        raise Rejected(f"negative balance {points}")
    expires_at = None
    if cell("points_expire_on"):
        expires_at = _end_of_day(cell("points_expire_on"))
        if expires_at <= now:
            raise Rejected(f"points_expire_on {cell('points_expire_on')} has passed")
    level = None
    if cell("level"):
        wanted = cell("level").casefold()
        found = next((lvl for lvl in program.levels
                      if wanted in (lvl.id.casefold(), words(lvl.title, "ru").casefold())), None)
        if found is None:
            raise Rejected(f"unknown level {cell('level')!r}: one of {', '.join(lvl.id for lvl in program.levels)}")
        level = found.id
    return Row(number=number, phone=phone, telegram_id=telegram_id, name=cell("name") or None, points=points,
               expires_at=expires_at, level=level)


def normalised_phone(text: str) -> str | None:
    """+7XXXXXXXXXX for a Russian mobile number written any usual way (8 916…, +7 (916)…, 916…), else None."""
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) == 10 and digits.startswith("9"):
        digits = "7" + digits
    elif len(digits) == 11 and digits[0] in "78":
        digits = "7" + digits[1:]
    return f"+{digits}" if len(digits) == 11 and digits[1] == "9" else None


def _end_of_day(text: str) -> datetime:
    """The end of a date (YYYY-MM-DD or DD.MM.YYYY) in Moscow: points expire when that day is over."""
    for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            day = datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        return datetime.combine(day + timedelta(days=1), day_time(0), tzinfo=MOSCOW)
    raise Rejected(f"bad points_expire_on {text!r}: a date, 2027-03-31 or 31.03.2027")


class Importer:
    """Members and opening balances from another loyalty system, each row once however often the file is run.

    A row's member is decided the same way on every run: the Telegram id when the row has one, else the member
    the phone was imported as (`phone:+7…`), else a member who already has that phone in the bot. A new member
    is written with its opening entry in two conditional puts (no transaction: one write per item at any size);
    a member that exists gets the opening through the ledger like any entry, keyed `import#opening`, so a re-run
    finds it written and changes nothing.
    """

    def __init__(self, program: Program, ledger: LedgerRepository, members_table: str, now: datetime):
        self.program = program
        self.ledger = ledger
        self.members_table = members_table
        self.now = now
        self.ids: set[str] = set()
        self.phones: dict[str, str] = {}

    def load_members(self) -> None:
        """Who exists, and by which phone: one scan instead of a query per row."""
        for page in client("dynamodb").get_paginator("scan").paginate(
                TableName=self.members_table, ProjectionExpression="member_id, phone"):
            for item in map(from_item, page["Items"]):
                self.ids.add(item["member_id"])
                if item.get("phone"):
                    self.phones[item["phone"]] = item["member_id"]

    def member_of(self, row: Row) -> str:
        if row.telegram_id is not None:
            owner = self.phones.get(row.phone)
            if owner is not None and owner != str(row.telegram_id):
                raise Rejected(f"the phone belongs to another member ({owner}) in the bot")
            return str(row.telegram_id)
        placeholder = imported_member_id(row.phone)
        if placeholder in self.ids:
            return placeholder
        return self.phones.get(row.phone, placeholder)

    def import_row(self, row: Row) -> str:
        """imported, unchanged (a re-run) or repaired (a run stopped between a member and its entry)."""
        member_id = self.member_of(row)
        opening = postings.opening(self.program, Wallet(), OPENING_ENTRY, row.points, row.expires_at, row.level,
                                   self.now)
        entry = entry_of(member_id, OPENING_ENTRY, Kind.OPENING, opening, self.now)
        if member_id not in self.ids:
            member: dict[str, Any] = {"phone": row.phone, "language": "ru", "joined_at": clock.stamp(self.now),
                                      "joined_via": "import", "subscribed": False}
            if row.name:
                member["name"] = row.name
            if self.ledger.open(member_id, entry, opening.wallet, member):
                return "imported"
        if self.ledger.entry(member_id, OPENING_ENTRY) is not None:  # a re-run: one read, nothing written
            return "unchanged"
        try:
            posting = self.ledger.apply(
                member_id, OPENING_ENTRY, Kind.OPENING,
                lambda wal: postings.opening(self.program, wal, OPENING_ENTRY, row.points, row.expires_at, row.level,
                                             self.now), now=self.now)
        except AlreadyRecorded:  # the wallet has the lot, the ledger not its entry: a run stopped in between
            self.ledger.put_entry(entry)
            return "repaired"
        return "imported" if posting.applied else "unchanged"


def import_members(path: Path, members_table: str, ledger_table: str, program_path: Path,
                   report_path: Path | None = None, workers: int = 8, out: TextIO = sys.stdout) -> int:
    """`loyalty members import FILE.csv`: import every good row, report every bad one (and why) to
    `report_path` (FILE.rejected.csv by default), print a summary. Exit 1 if any row was rejected."""
    from tqdm import tqdm

    program = load_program(program_path)
    importer = Importer(program, ledger_for(program, ledger_table, members_table), members_table, clock.now())
    importer.load_members()
    report_path = report_path or path.with_suffix(".rejected.csv")
    counts: Counter[str] = Counter()
    rejected: list[dict[str, Any]] = []
    started = time.monotonic()
    with path.open(encoding="utf-8-sig", newline="") as file, \
            ThreadPoolExecutor(max_workers=workers) as pool, \
            tqdm(desc="rows", unit="row", file=sys.stderr) as bar:
        reader = csv.DictReader(file)
        if "phone" not in (reader.fieldnames or []):
            print(json.dumps({"error": f"{path}: the header row has no phone column (columns: "
                                       f"{', '.join(COLUMNS)})"}), file=out)
            return 2
        seen_phones: dict[str, int] = {}
        seen_ids: dict[int, int] = {}
        pending: list[tuple[Row, Future[str]]] = []
        for number, raw in enumerate(reader, start=2):
            try:
                row = read_row(program, number, raw, importer.now)
                first = seen_phones.setdefault(row.phone, number)
                if first != number:
                    raise Rejected(f"duplicate phone: row {first} has it")
                if row.telegram_id is not None and seen_ids.setdefault(row.telegram_id, number) != number:
                    raise Rejected(f"duplicate telegram_id: row {seen_ids[row.telegram_id]} has it")
            except Rejected as error:
                rejected.append({"row": number, "reason": str(error), **{c: raw.get(c) or "" for c in COLUMNS}})
                counts["rejected"] += 1
                bar.update(1)
                continue
            pending.append((row, pool.submit(importer.import_row, row)))
            if len(pending) >= 4 * workers:
                _collect(pending, counts, rejected, bar)
        _collect(pending, counts, rejected, bar, everything=True)
    seconds = time.monotonic() - started
    if rejected:
        with report_path.open("w", encoding="utf-8", newline="") as report:
            writer = csv.DictWriter(report, fieldnames=["row", "reason", *COLUMNS], lineterminator="\n")
            writer.writeheader()
            writer.writerows(sorted(rejected, key=lambda r: r["row"]))
    rows = sum(counts.values())
    print(json.dumps({"rows": rows, **{k: counts.get(k, 0) for k in ("imported", "unchanged", "repaired",
                                                                       "rejected")},
                      "rows_per_second": round(rows / seconds, 1) if seconds else None,
                      "report": str(report_path) if rejected else None}), file=out)
    return 1 if rejected else 0


def _collect(pending: list[tuple[Row, Future[str]]], counts: Counter[str], rejected: list[dict[str, Any]],
             bar: Any, everything: bool = False) -> None:
    """Count the rows whose import finished (all of them with `everything`), in the order they were read."""
    while pending and (everything or pending[0][1].done()):
        row, future = pending.pop(0)
        try:
            counts[future.result()] += 1
        except Rejected as error:
            rejected.append({"row": row.number, "reason": str(error), "phone": row.phone,
                             "telegram_id": row.telegram_id or ""})
            counts["rejected"] += 1
        bar.update(1)
