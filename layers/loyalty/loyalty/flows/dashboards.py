"""The console's dashboard: the program's figures for a period the staff member picks, beside the period before,
from the daily figures (FiguresTable); and its tables as CSV, an export the audit keeps."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from loyalty.domain import console
from loyalty.domain.audit import Action, Actor, Draft
from loyalty.domain.console import Permission, Refused, Session
from loyalty.domain.dashboard import Dashboard, Language, csv_text, dashboard
from loyalty.domain.figures import previous, with_earlier
from loyalty.domain.receipt import MOSCOW

if TYPE_CHECKING:
    from loyalty.domain.daily import Tally
    from loyalty.domain.program import Program
    from loyalty.domain.staff import StaffMember
    from loyalty.flows.ports import AuditTrail

DEFAULT_DAYS = 30
LONGEST_DAYS = 731  # two years: a view reads four, the period before included


class DailyFigures(Protocol):
    def read(self, since: date) -> tuple[dict[date, Tally], Tally]: ...


class Dashboards:
    def __init__(self, program: Program, figures: DailyFigures, audit: AuditTrail):
        self.program = program
        self.figures = figures
        self.audit = audit

    def view(self, staff: StaffMember, since: date | None, until: date | None, language: Language,
             now: datetime) -> Dashboard:
        """The period [since, until) (default: the last 30 days, today included)."""
        console.allow(staff.role, Permission.VIEW)
        since, until = period(since, until, now)
        start = previous(since, until)[0]
        return dashboard(self.program, with_earlier(*self.figures.read(start), start), since, until, language)

    def export(self, session: Session, staff: StaffMember, since: date | None, until: date | None,
               table: str | None, language: Language, now: datetime) -> tuple[str, str]:
        """A table of the dashboard (or all of them) as CSV, and a file name for it; the export is audited."""
        board = self.view(staff, since, until, language, now)
        if table is not None and board.table(table) is None:
            raise Refused(f"no table {table!r} on the dashboard", status=404)
        self.audit.append(Draft(at=now, actor=Actor.of(staff), action=Action.EXPORT, session=session.id,
                                subject=f"dashboard:{table or 'all'}",
                                after={"since": board.since.isoformat(), "until": board.until.isoformat()}))
        last = board.until - timedelta(days=1)
        return csv_text(board, table), f"{table or 'dashboard'}-{board.since.isoformat()}-{last.isoformat()}.csv"


def period(since: date | None, until: date | None, now: datetime) -> tuple[date, date]:
    """The period asked for, checked: Refused (422) when it is empty or longer than two years."""
    until = until or now.astimezone(MOSCOW).date() + timedelta(days=1)
    since = since or until - timedelta(days=DEFAULT_DAYS)
    if since >= until:
        raise Refused("the period is empty: its first day must come before the day after its last", status=422)
    if (until - since).days > LONGEST_DAYS:
        raise Refused(f"the period is longer than {LONGEST_DAYS} days", status=422)
    return since, until
