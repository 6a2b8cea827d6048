"""`loyalty fraud report`: one scan of the ledger, written as a marketer reads it (or as JSON)."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import TextIO

from loyalty.adapters.ledger import LedgerRepository
from loyalty.domain.fraud import rule_words
from loyalty.domain.fraud_report import FraudReport, FraudReportBuilder
from loyalty.domain.receipt import MOSCOW


def report(members_table: str, ledger_table: str, since: datetime | None, until: datetime | None, as_json: bool,
           out: TextIO = sys.stdout) -> int:
    builder = FraudReportBuilder(since, until)
    for page in LedgerRepository(ledger_table, members_table).every_entry():
        builder.entries(page)
    figures = builder.report()
    if as_json:
        print(json.dumps({**figures.model_dump(mode="json"), "held_percent": figures.held_percent},
                         ensure_ascii=False), file=out)
    else:
        print(render(figures), file=out)
    return 0


def render(r: FraudReport) -> str:
    def day(moment: datetime | None, default: str) -> str:
        return moment.astimezone(MOSCOW).strftime("%d.%m.%Y") if moment else default

    lines = [f"Проверка чеков, {'с ' + day(r.since, '') if r.since else 'с начала'} "
             f"{'до ' + day(r.until, '') if r.until else 'по сегодня'}", "",
             f"Чеков начислено: {r.receipts}, из них задержано на проверку: {r.held} "
             f"({f'{r.held_percent:.1f}'.replace('.', ',')}%)",
             f"  одобрено: {r.approved}, отклонено: {r.rejected}, ждут решения: {r.waiting}",
             f"Баллов не выдано по отклонённым чекам: {r.points_saved}"]
    if r.by_rule:
        lines += ["", "По правилам:"]
        lines += [f"  {words}: задержано {figures.held}, одобрено {figures.approved}, отклонено {figures.rejected}"
                  for (rule, figures), words in zip(r.by_rule.items(), rule_words(list(r.by_rule)), strict=True)]
    return "\n".join(lines)
