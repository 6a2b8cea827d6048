"""Store names take the case the sentence needs: the program writes the forms, the texts use them."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from loyalty.adapters.program_file import ProgramError, load_program
from loyalty.domain.history import history_lines
from loyalty.domain.ledger import Entry
from loyalty.domain.messages import render
from tests.conftest import ROOT

SEED = load_program(ROOT / "program" / "program.yaml")


@pytest.mark.parametrize(("channel", "store", "said"), [
    ("golden_apple", "Золотое Яблоко", "+120 баллов за покупку в Золотом Яблоке."),
    ("d2c", "Лепесток", "+120 баллов за покупку на сайте Лепесток."),
    ("wildberries", "Wildberries", "+120 баллов за покупку на Wildberries."),
    ("other", "Ромашка", "+120 баллов за покупку в магазине «Ромашка»."),
])
def test_a_credit_names_the_store_in_the_case_russian_needs(channel: str, store: str, said: str) -> None:
    text = render("points_credited", "ru", points=120, balance=300, store=SEED.place(channel, store))
    assert text.startswith(said), text


def test_a_receipt_comes_from_the_store_and_english_says_at() -> None:
    apple = SEED.place("golden_apple", None)
    assert render("receipt_held_approved", "ru", points=50, store=apple).startswith("Чек из Золотого Яблока проверен")
    assert "purchase at Golden Apple" in render("points_credited", "en", points=1, balance=1, store=apple)
    # a lot keeps only the store's title: the title finds the channel and its forms
    assert SEED.place(None, "Яндекс Маркет").words("ru")[1] == "на Яндекс Маркете"
    assert SEED.place(None, "Лепесток").words("ru")[1] == "на сайте Лепесток"


def test_history_says_where_in_the_right_case() -> None:
    entry = Entry.model_validate({
        "member_id": "1", "entry_id": "accrual#k", "kind": "accrual", "points": 90,
        "change": {"available": 90}, "balance_after": {},
        "created_at": datetime(2026, 12, 6, 10, tzinfo=UTC).isoformat(),
        "details": {"channel": "golden_apple", "store": "Золотое Яблоко"}})
    assert history_lines([entry], "ru", SEED) == ["06.12  +90  покупка в Золотом Яблоке"]
    assert history_lines([entry], "en", SEED) == ["06.12  +90  purchase at Golden Apple"]


@pytest.mark.parametrize(("channel", "error"), [
    ({"name": "magnit", "title": "Магнит", "kind": "retail", "inns": ["2309085638"]}, "declines in Russian"),
    ({"name": "magnit", "title": "Магнит", "kind": "retail", "inns": ["2309085638"],
      "forms": {"at": "Магнит", "from": "из Магнита"}}, "starts with its preposition"),
])
def test_a_declining_store_name_needs_its_forms(tmp_path: Path, channel: dict[str, object], error: str) -> None:
    program = yaml.safe_load((ROOT / "program" / "program.yaml").read_text())
    program["channels"].append(channel)
    path = tmp_path / "program.yaml"
    path.write_text(yaml.safe_dump(program, allow_unicode=True))
    with pytest.raises(ProgramError, match=error):
        load_program(path)
