"""The brand's wording as the webhook's edge reads it (adapters/brand_texts.py): the program file's, the console's
rewording once it has one, within a minute of the change, and the same texts render() gives the rest of the bot."""

from datetime import timedelta
from pathlib import Path

from loyalty import clock
from loyalty.adapters.brand_texts import BrandTexts
from loyalty.adapters.console_table import ConsoleTable
from loyalty.adapters.program_file import load_program
from loyalty.domain.everyday import Change
from loyalty_tools.local.stack import LocalStack
from tests.conftest import TEST_PROGRAM


def test_the_edge_reads_the_files_wording_then_the_consoles_within_a_minute(stack: LocalStack,
                                                                            tmp_path: Path) -> None:
    program_file = tmp_path / "program.yaml"
    program_file.write_text(TEST_PROGRAM.read_text(encoding="utf-8")
                            + "bot:\n  texts:\n    receipt_accepted: {ru: Чек у нас!}\n", encoding="utf-8")
    assert load_program(program_file).bot.texts == {"receipt_accepted": {"ru": "Чек у нас!"}}  # a valid file
    texts = BrandTexts(str(program_file), "ConsoleTable")
    assert texts() == {"receipt_accepted": {"ru": "Чек у нас!"}}

    reworded = {"receipt_accepted": {"ru": "Получили, проверяем.", "en": "Got it."}}
    ConsoleTable("ConsoleTable").keep_change(Change(section="texts", value=reworded, version=1,
                                                    changed_at=clock.now(), changed_by=1))
    assert texts() == {"receipt_accepted": {"ru": "Чек у нас!"}}  # read at most once a minute
    stack.travel(stack.now() + timedelta(seconds=61))
    assert texts() == reworded
    assert BrandTexts(str(program_file), "")() == {"receipt_accepted": {"ru": "Чек у нас!"}}  # no console deployed


def test_the_console_unreadable_leaves_the_words_last_read(stack: LocalStack, tmp_path: Path) -> None:
    program_file = tmp_path / "program.yaml"
    program_file.write_text(TEST_PROGRAM.read_text(encoding="utf-8")
                            + "bot:\n  texts:\n    receipt_accepted: {ru: Чек у нас!}\n", encoding="utf-8")
    assert BrandTexts(str(program_file), "NoSuchTable")() == {"receipt_accepted": {"ru": "Чек у нас!"}}
    texts = BrandTexts(str(program_file), "ConsoleTable")
    reworded = {"receipt_accepted": {"ru": "Получили, проверяем."}}
    ConsoleTable("ConsoleTable").keep_change(Change(section="texts", value=reworded, version=1,
                                                    changed_at=clock.now(), changed_by=1))
    assert texts() == reworded
    texts.console_table = "NoSuchTable"  # the table gone, as during a deploy gone wrong
    stack.travel(stack.now() + timedelta(seconds=61))
    assert texts() == reworded
