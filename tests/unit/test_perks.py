"""The shipped program's every level perk has something behind it: a perk is a promise to the shopper, so each one
names the rule that keeps it, and a perk added with nothing behind it fails here until it has."""

import re
from collections.abc import Callable

from loyalty.adapters.program_file import load_program
from loyalty.domain.bot_program import words
from loyalty.domain.program import Level, Program
from loyalty.flows.redemption import Quote
from tests.conftest import ROOT

PROGRAM = load_program(ROOT / "program" / "program.yaml")


def rank(program: Program, level_id: str | None) -> int:
    return next((index for index, level in enumerate(program.levels) if level.id == level_id), 0)


def opens_at(level: Level, level_id: str | None) -> bool:
    """The mechanism is open from this level (or a lower one)."""
    return rank(PROGRAM, level_id) <= rank(PROGRAM, level.id)


def percent(level: Level, perk: str) -> bool:
    return f"{level.percent.normalize():f}%" in perk


BEHIND: dict[str, Callable[[Level, str], bool]] = {
    r"^\d+% баллами": percent,
    r"^подарок ко дню рождения$": lambda level, _: PROGRAM.birthday is not None and opens_at(
        level, PROGRAM.birthday.min_level),
    r"^ранний доступ к новинкам$": lambda level, _: any(
        reward.id == "novelty" and opens_at(level, reward.min_level) for reward in PROGRAM.bot.rewards)
    and "early_access" in PROGRAM.segments,
    # the redemption API's quote names the member's level and its perks: the site adds the samples to the order
    r"^пробники в каждом заказе$": lambda level, _: "level" in Quote.model_fields,
    r"^эксклюзивные товары за баллы$": lambda level, _: any(
        reward.min_level == level.id for reward in PROGRAM.bot.rewards),
    r"^мерч бренда$": lambda level, _: any(reward.id == "merch" and reward.min_level == level.id
                                           for reward in PROGRAM.bot.rewards),
    r"^закрытое сообщество$": lambda level, _: PROGRAM.community is not None
    and PROGRAM.community.min_level == level.id,
    r"^два вращения колеса призов за чек$": lambda level, _: PROGRAM.draw is not None and PROGRAM.draw.spins_for(
        level.id) == 2,
}


def test_every_perk_of_every_level_has_the_rule_that_keeps_it() -> None:
    unkept = []
    for level in PROGRAM.levels:
        for perk in (words(perk, "ru") for perk in level.perks):
            checks = [check for pattern, check in BEHIND.items() if re.search(pattern, perk)]
            if not checks or not all(check(level, perk) for check in checks):
                unkept.append((level.id, perk))
    assert unkept == []
