"""The everyday changes in the console, on in-memory adapters: a blogger's deep link with its QR code, a reward
restocked, a text reworded, a nudge switched off. Each is checked as the program file is, with the file's
messages, kept over the version it was made from, audited, and live in the functions within a minute."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from loyalty.adapters.qr_image import decode_qr
from loyalty.domain import audit
from loyalty.domain.console import ChangeRefused, Refused, Session
from loyalty.domain.messages import render, use_brand_texts
from loyalty.domain.staff import Role, StaffMember
from loyalty.domain.wallet import Wallet
from loyalty.flows.console_read import ConsoleRead
from loyalty.flows.everyday import Everyday
from loyalty.flows.rewards import catalog
from tests.conftest import present
from tests.fakes import MemoryAuditLog, MemoryBotTable, MemoryConsoleTable
from tests.unit.flows.conftest import PROGRAM

NOW = datetime(2026, 12, 7, 9, tzinfo=UTC)
SESSION = Session(id="session-of-olga-02", telegram_id=5_000_002, expires_at=NOW + timedelta(hours=8))
MARKETER = StaffMember(telegram_id=5_000_002, role=Role.MARKETER, name="Ольга")
SUPPORT = StaffMember(telegram_id=5_000_001, role=Role.SUPPORT, name="Мария")


@pytest.fixture(autouse=True)
def brand_texts() -> Iterator[None]:
    """The bot's texts are the process's (as in a function's container): the file's again after each test."""
    yield
    use_brand_texts(PROGRAM.bot.texts)


def office() -> tuple[Everyday, MemoryConsoleTable, MemoryAuditLog]:
    table, log = MemoryConsoleTable(), MemoryAuditLog()
    return Everyday(PROGRAM, table, log, MemoryBotTable()), table, log


def test_a_bloggers_link_is_added_with_a_qr_code_that_reads_as_the_link_audited_and_live_within_a_minute() -> None:
    everyday, table, log = office()
    read = ConsoleRead(PROGRAM, table)
    assert "blog_anna" not in read.program(NOW).bot.sources
    sources = {**{k: v.model_dump(mode="json", exclude_none=True) for k, v in PROGRAM.bot.sources.items()},
               "blog_anna": {"kind": "blogger"}}
    view = everyday.change(SESSION, MARKETER, "sources", sources, 0, NOW)
    assert view.version == 1 and "blog_anna" in view.value
    assert "blog_anna" not in read.program(NOW + timedelta(seconds=59)).bot.sources  # read once a minute
    assert read.program(NOW + timedelta(minutes=1)).bot.sources["blog_anna"].kind == "blogger"
    (entry,) = log.chain
    assert (entry.action, entry.subject) == (audit.Action.PROGRAM_CHANGED, "sources")
    png = everyday.qr(MARKETER, "blog_anna", "png")
    assert decode_qr(png) == ["https://t.me/lepestok_bonus_bot?start=blog_anna"]  # what a phone's camera reads
    assert everyday.qr(MARKETER, "blog_anna", "svg").startswith(b"<?xml")
    with pytest.raises(ChangeRefused, match="Источника 'nobody' нет"):
        everyday.qr(MARKETER, "nobody", "png")


def test_a_change_the_file_would_refuse_is_refused_with_its_message_and_a_stale_page_is_refused() -> None:
    everyday, table, log = office()
    with pytest.raises(ChangeRefused, match=r"bot\.sources\.blog\.kind"):
        everyday.change(SESSION, MARKETER, "sources", {"blog": {"kind": "tv"}}, 0, NOW)
    texts = {"welcome": {"ru": "Привет от {brand}! {nonsense}"}}
    with pytest.raises(ChangeRefused, match="nonsense"):
        everyday.change(SESSION, MARKETER, "texts", texts, 0, NOW)
    everyday.change(SESSION, MARKETER, "texts", {"welcome": {"ru": "Добро пожаловать в {brand}!"}}, 0, NOW)
    with pytest.raises(ChangeRefused, match="уже изменили в другом окне") as stale:
        everyday.change(SESSION, MARKETER, "texts", {}, 0, NOW)  # made from the page before the change
    assert stale.value.status == 409 and len(log.chain) == 1
    with pytest.raises(Refused):
        everyday.change(SESSION, SUPPORT, "texts", {}, 1, NOW)  # support reads, never changes
    read = ConsoleRead(PROGRAM, table)
    read.program(NOW)
    assert render("welcome", "ru", brand="Лепесток").startswith("Добро пожаловать в Лепесток!")


def test_a_reward_restocked_shows_what_is_left_and_a_nudge_switched_off_is_not_scheduled() -> None:
    everyday, table, _ = office()
    rewards = [reward.model_dump(mode="json", exclude_none=True) for reward in PROGRAM.bot.rewards]
    rewards[1] = {**rewards[1], "stock": 50, "image": "https://lepestok.ru/tote.jpg"}
    view = everyday.change(SESSION, MARKETER, "rewards", rewards, 0, NOW)
    assert view.left["tote"] == 50 and view.value[1]["image"] == "https://lepestok.ru/tote.jpg"
    nudges = [{**nudge.model_dump(mode="json", exclude_none=True), "on": False} for nudge in PROGRAM.bot.nudges]
    everyday.change(SESSION, MARKETER, "nudges", nudges, 0, NOW)
    live = ConsoleRead(PROGRAM, table).program(NOW)
    assert not any(nudge.on for nudge in live.bot.nudges) and present(live.bot.reward("tote")).stock == 50
    shown = {view.id: view for view in catalog(live, Wallet(), 0, MemoryBotTable(), "ru")}  # the Mini App's list
    assert shown["tote"].image == "https://lepestok.ru/tote.jpg" and shown["samples"].image is None
    sections = {section.section: section for section in everyday.sections(SUPPORT)}
    assert list(sections) == ["sources", "rewards", "texts", "nudges", "onboarding"]
    assert (sections["rewards"].version, sections["onboarding"].version) == (1, 0)  # onboarding: the file's
