"""`loyalty draw verify DAY`: the day's spins replayed, and the ledger's spin entries held against them."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, TextIO

from loyalty.adapters.draw_store import DrawStore
from loyalty.adapters.ledger import LedgerRepository
from loyalty.adapters.program_file import load_program
from loyalty.domain.draw import paid_as_drawn
from loyalty.domain.ledger import Cause, entry_id_of
from loyalty.flows.draw import verify_day
from loyalty.wiring.keys import stack_key

if TYPE_CHECKING:
    from datetime import date
    from pathlib import Path


def verify(program_file: Path, day: date, bot_table: str, members_table: str, ledger_table: str,
           stack_key_name: str | None, as_json: bool, out: TextIO = sys.stdout) -> int:
    """0 when the day replays to the spin (and the ledger paid each once); 1, with each problem named, if not."""
    program = load_program(program_file)
    if program.draw is None:
        print("the program has no prize draw", file=out)
        return 1
    store = DrawStore(bot_table)
    spins, problems = verify_day(program.draw, program.reward_prices(), store, day)
    if stack_key_name is not None:
        keyed, prefix = stack_key(stack_key_name), entry_id_of(Cause.DRAW, "")
        paid = {(keyed.marker("member", entry.member_id), entry.details.spin or 0): entry.details.prize
                for page in LedgerRepository(ledger_table, members_table).every_entry() for entry in page
                if entry.entry_id.startswith(prefix)}
        problems += paid_as_drawn(spins, paid)
    given = [one for one in spins if one.prize]
    summary = {"day": day.isoformat(), "spins": len(spins), "prizes": len(given),
               "points": sum(one.value_points for one in given),
               "withheld": sum(1 for one in spins if one.withheld), "ledger_checked": stack_key_name is not None,
               "problems": [problem.model_dump() for problem in problems]}
    if as_json:
        print(json.dumps(summary, ensure_ascii=False), file=out)
    else:
        verdict = "every outcome replays from the revealed seed" if not problems else f"{len(problems)} problems"
        print(f"{day.isoformat()}: {len(spins)} spins, {len(given)} prizes worth {summary['points']} points, "
              f"{summary['withheld']} withheld by stock or budget; {verdict}"
              + ("; the ledger paid each once" if stack_key_name is not None and not problems else ""), file=out)
        for problem in problems:
            print(f"  spin {problem.seq}: {problem.problem}", file=out)
    return 1 if problems else 0
