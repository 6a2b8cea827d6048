from pathlib import Path

import pytest

from loyalty.adapters.program_file import ProgramError, load_program
from loyalty.domain.messages import points_word, render
from loyalty.domain.places import Place
from loyalty.domain.texts import EN, RU, TEXTS, language_of
from tests.conftest import ROOT


def test_every_message_exists_in_russian_and_english() -> None:
    for key, texts in TEXTS.items():
        assert texts.get(RU) and texts.get(EN), key


@pytest.mark.parametrize(("code", "language"), [("ru", RU), ("uk", RU), ("kk-KZ", RU), (None, RU), ("en", EN),
                                                  ("de", EN)])
def test_language_follows_the_telegram_language_code(code: str, language: str) -> None:
    assert language_of(code) == language


@pytest.mark.parametrize(("count", "word"), [(1, "балл"), (2, "балла"), (4, "балла"), (5, "баллов"),
                                              (11, "баллов"), (14, "баллов"), (21, "балл"), (112, "баллов")])
def test_russian_plural_of_points(count: int, word: str) -> None:
    assert points_word(count) == word


def test_render_fills_in_plurals() -> None:
    text = render("points_credited", RU, points=21, balance=102, store=Place("Ozon"))
    assert text == "+21 балл за покупку в Ozon. На счёте 102 балла."


def test_the_shipped_program_is_valid() -> None:
    program = load_program(ROOT / "program" / "program.yaml")
    assert program.brand.supplier_inns and program.earning.base_percent > 0


def test_a_bad_program_file_names_the_bad_key(tmp_path: Path) -> None:
    bad = tmp_path / "program.yaml"
    bad.write_text("brand: {name: X, supplier_inns: ['12ab']}\nearning: {base_percent: 10, bonus: 1}\n")
    with pytest.raises(ProgramError) as error:
        load_program(bad)
    assert "brand.supplier_inns" in str(error.value) and "earning.bonus" in str(error.value)


def test_a_fraud_rule_is_named_once_with_a_threshold_and_an_unknown_one_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "program.yaml"
    bad.write_text("brand: {name: X}\nearning: {base_percent: 10}\nfraud:\n  rules:\n"
                   "    - {rule: till_members, threshold: 5}\n    - {rule: till_members, threshold: 9}\n")
    with pytest.raises(ProgramError, match="each rule once"):
        load_program(bad)
    bad.write_text("brand: {name: X}\nearning: {base_percent: 10}\nfraud:\n  rules:\n"
                   "    - {rule: lucky_guess, threshold: 0}\n")
    with pytest.raises(ProgramError) as error:
        load_program(bad)
    assert "fraud.rules.0.rule" in str(error.value) and "fraud.rules.0.threshold" in str(error.value)
