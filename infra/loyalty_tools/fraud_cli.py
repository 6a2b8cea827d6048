"""`loyalty fraud report`: one scan of the ledger, written as a marketer reads it (or as JSON)."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TextIO

from loyalty.adapters.claims import ReceiptClaims
from loyalty.adapters.ledger import LedgerRepository
from loyalty.domain.fraud import parse_code, rule_words
from loyalty.domain.fraud_report import FraudReport, FraudReportBuilder
from loyalty.domain.receipt import MOSCOW


def report(members_table: str, ledger_table: str, claims_table: str, since: datetime | None, until: datetime | None,
           as_json: bool, out: TextIO = sys.stdout) -> int:
    builder = FraudReportBuilder(since, until)
    for page in LedgerRepository(ledger_table, members_table).every_entry():
        builder.entries(page)
    builder.grey(ReceiptClaims(claims_table, members_table).grey_items())
    figures = builder.report()
    if as_json:
        print(json.dumps({**figures.model_dump(mode="json"), "held_percent": figures.held_percent},
                         ensure_ascii=False), file=out)
    else:
        print(render(figures), file=out)
    return 0


def load_serials(claims_table: str, members_table: str, source: Path, out: TextIO = sys.stdout) -> int:
    """Every marking code in the file (unreadable lines, as a header, are counted and skipped)."""
    lines = source.read_text(encoding="utf-8-sig").split("\n")  # not splitlines: a code's group separator is kept
    codes = [code for code in map(parse_code, lines) if code]
    loaded = ReceiptClaims(claims_table, members_table).load_serials(codes) if codes else 0
    print(json.dumps({"loaded": loaded, "skipped_lines": len([line for line in lines if line.strip()]) - len(codes)}),
          file=out)
    return 0 if codes else 1


def render(r: FraudReport) -> str:
    def day(moment: datetime | None, default: str) -> str:
        return moment.astimezone(MOSCOW).strftime("%d.%m.%Y") if moment else default

    lines = [f"Проверка чеков, {'с ' + day(r.since, '') if r.since else 'с начала'} "
             f"{'до ' + day(r.until, '') if r.until else 'по сегодня'}", "",
             f"Чеков начислено: {r.receipts}, из них задержано на проверку: {r.held} "
             f"({f'{r.held_percent:.1f}'.replace('.', ',')}%)",
             f"  одобрено: {r.approved}, отклонено: {r.rejected}, ждут решения: {r.waiting}",
             f"Баллов не выдано по отклонённым чекам: {r.points_saved}"]
    if r.grey_items:
        lines += ["", f"Товары не из оборота бренда (серый рынок или подделка): {r.grey_items}"]
        lines += [f"  {place}: {count}" for place, count in r.grey_by_place.items()]
    if r.by_rule:
        lines += ["", "По правилам:"]
        lines += [f"  {words}: задержано {figures.held}, одобрено {figures.approved}, отклонено {figures.rejected}"
                  for (rule, figures), words in zip(r.by_rule.items(), rule_words(list(r.by_rule)), strict=True)]
    return "\n".join(lines)
