"""The everyday changes to the program, made in the console (the bot's sections a marketer changes without a deploy):
its deep-link sources, its rewards, its texts, its nudges and its onboarding. Each replaces the program file's section
whole, is read by the same model as the file (the same checks, the same messages), and is kept with a version, so a
change made from a stale page is refused rather than lost. Levels, rates and the earning rules stay in the reviewed
file. Pure: no I/O."""


from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from loyalty.domain.console import ChangeRefused
from loyalty.domain.program import Program
from loyalty.validation import problems

SECTIONS = ("sources", "rewards", "texts", "nudges", "onboarding")  # of the program file's `bot:`
SECTION_WORDS = {"sources": "ссылки и QR-коды", "rewards": "награды", "texts": "тексты бота",
                 "nudges": "подсказки", "onboarding": "знакомство"}


class Change(BaseModel):
    """One section as the console changed it: its whole new value (as the program file writes it)."""

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    section: str
    value: Any
    version: int = Field(ge=1)
    changed_at: datetime
    changed_by: int  # the staff member's Telegram id


def applied(program: Program, changes: list[Change]) -> Program:
    """The program with the console's sections in place of the file's, checked as the file is."""
    if not changes:
        return program
    document = program.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    bot = document.setdefault("bot", {})
    for change in changes:
        if change.section not in SECTIONS:
            raise ChangeRefused(f"Раздел {change.section!r} в консоли не меняют.", status=404)
        bot[change.section] = change.value
    try:
        return Program.model_validate(document)
    except ValidationError as error:
        raise ChangeRefused(problems(error, "(root)")) from error


def section(program: Program, name: str) -> Any:
    """A section of the program's `bot:` as the file writes it (what the console edits)."""
    return program.bot.model_dump(mode="json", by_alias=True, exclude_defaults=True).get(name, [] if name in (
        "rewards", "nudges") else {})
