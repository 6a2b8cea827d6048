"""The everyday changes in the console (domain/everyday.py): a marketer adds a blogger's deep link and prints its QR
code, restocks a reward, rewords a text, switches a nudge off. Each is checked beside the program file as the file
is, kept only over the version it was made from, audited, and reaches the bot within a minute (flows/composer.py:
ConsoleRead), with no deploy."""

from __future__ import annotations

import io
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict

from loyalty.domain import console, everyday
from loyalty.domain.audit import Action, Actor, Draft
from loyalty.domain.console import ChangeRefused, Permission, Session
from loyalty.domain.everyday import Change
from loyalty.domain.texts import TEXTS

if TYPE_CHECKING:
    from loyalty.domain.program import Program
    from loyalty.domain.staff import StaffMember
    from loyalty.flows.ports import AuditTrail


class ChangesTable(Protocol):
    """Where the console keeps its changes (adapters/console_table.py)."""

    def changes(self) -> list[Change]: ...

    def keep_change(self, change: Change) -> None: ...


class StockLeft(Protocol):
    """How many of a reward are left (adapters/bot_table.py)."""

    def stock_left(self, reward_id: str, initial: int) -> int: ...


class SectionView(BaseModel):
    model_config = ConfigDict(defer_build=True)

    section: str
    words: str  # what the console calls it
    value: Any  # as the program file writes it
    version: int  # 0: the program file's, as deployed
    changed_at: datetime | None = None
    left: dict[str, int] = {}  # rewards: how many of each are left (its stock less those taken)
    defaults: dict[str, dict[str, str]] = {}  # texts: the catalog's own wording of each, to reword from


class Everyday:
    def __init__(self, program: Program, table: ChangesTable, audit: AuditTrail, stock: StockLeft | None = None):
        self.program = program  # the program file's, as deployed
        self.table = table
        self.audit = audit
        self.stock = stock

    def sections(self, staff: StaffMember) -> list[SectionView]:
        """Each section as it runs now: the console's change of it, else the file's."""
        console.allow(staff.role, Permission.VIEW)
        changes = {change.section: change for change in self.table.changes()}
        live = everyday.applied(self.program, list(changes.values()))
        return [SectionView(section=name, words=everyday.SECTION_WORDS[name], value=everyday.section(live, name),
                            version=changes[name].version if name in changes else 0,
                            changed_at=changes[name].changed_at if name in changes else None,
                            left=self._left(live) if name == "rewards" else {},
                            defaults=TEXTS if name == "texts" else {}) for name in everyday.SECTIONS]

    def change(self, session: Session, staff: StaffMember, section: str, value: Any, version: int,
               now: datetime) -> SectionView:
        """`section` rewritten from `version` (0: the file's), checked beside the rest as the file is, kept, audited."""
        console.allow(staff.role, Permission.EVERYDAY)
        if section not in everyday.SECTIONS:
            raise ChangeRefused(f"Раздел {section!r} в консоли не меняют.", status=404)
        changes = {change.section: change for change in self.table.changes()}
        before = changes.get(section)
        if (before.version if before else 0) != version:
            raise ChangeRefused("Раздел уже изменили в другом окне: обновите страницу и повторите.", status=409)
        after = Change(section=section, value=value, version=version + 1, changed_at=now, changed_by=staff.telegram_id)
        live = everyday.applied(self.program, [*(c for name, c in changes.items() if name != section), after])
        self.table.keep_change(after)
        self.audit.append(Draft(at=now, actor=Actor.of(staff), action=Action.PROGRAM_CHANGED, session=session.id,
                                subject=section, before={"value": before.value if before else
                                                         everyday.section(self.program, section)},
                                after={"value": value}))
        return SectionView(section=section, words=everyday.SECTION_WORDS[section],
                           value=everyday.section(live, section), version=after.version, changed_at=now,
                           left=self._left(live) if section == "rewards" else {})

    def qr(self, staff: StaffMember, key: str, kind: Literal["svg", "png"]) -> bytes:
        """The QR code of a source's deep link, to print: SVG for the designer, PNG for anything else."""
        console.allow(staff.role, Permission.VIEW)
        live = everyday.applied(self.program, self.table.changes())
        if key not in live.bot.sources:
            raise ChangeRefused(f"Источника {key!r} нет.", status=404)
        import segno  # only for a printed source's code: no other request of the console pays its import

        code = segno.make(deep_link(live, key), error="m")
        out = io.BytesIO()
        code.save(out, kind=kind, scale=10 if kind == "png" else 4, border=4)
        return out.getvalue()

    def _left(self, live: Program) -> dict[str, int]:
        if self.stock is None:
            return {}
        return {reward.id: self.stock.stock_left(reward.id, reward.stock)
                for reward in live.bot.rewards if reward.stock is not None}


def deep_link(program: Program, key: str) -> str:
    """The bot's link that starts it with a source's key (t.me/<bot>?start=<key>)."""
    if not program.brand.bot_username:
        raise ChangeRefused("В файле программы нет @username бота (brand.bot_username): без него ссылку не построить.")
    return f"https://t.me/{program.brand.bot_username}?start={key}"
