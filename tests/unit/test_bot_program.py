"""The program file's `bot:` section, the catalog's two languages and the brand's wording, the way to the next level."""

from datetime import UTC, datetime
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from loyalty.domain import levels, postings
from loyalty.domain.bot_program import placeholders, words
from loyalty.domain.earning import PurchaseCredit
from loyalty.domain.messages import how_many, joined, render, use_brand_texts
from loyalty.domain.program import Program
from loyalty.domain.texts import EN, RU, TEXTS
from loyalty.domain.wallet import Wallet
from tests.conftest import ROOT, present

SEED = yaml.safe_load((ROOT / "program" / "program.yaml").read_text(encoding="utf-8"))
NOW = datetime(2026, 12, 1, 10, tzinfo=UTC)


def program_with(**bot: Any) -> Program:
    return Program.model_validate({**SEED, "bot": {**SEED["bot"], **bot}})


def test_russian_and_english_say_the_same_things() -> None:
    """Every text in both languages, with the same placeholders: a translation cannot drop a value."""
    for key, texts in TEXTS.items():
        assert texts.get(RU) and texts.get(EN), key
        assert placeholders(texts[RU]) == placeholders(texts[EN]) | {
            f"{name}_word" for name in placeholders(texts[EN]) if f"{name}_word" in texts[RU]}, key


def test_the_brand_rewords_a_text_and_may_use_only_its_placeholders() -> None:
    program = program_with(texts={"receipt_accepted": {"ru": "Чек у нас! Проверяем.", "en": "Got it!"}})
    use_brand_texts(program.bot.texts)
    try:
        assert render("receipt_accepted", RU) == "Чек у нас! Проверяем."
        assert render("receipt_accepted", EN) == "Got it!"
        assert render("not_a_receipt", RU).startswith("Не вижу здесь QR-кода")  # the rest stays the catalog's
    finally:
        use_brand_texts({})
    with pytest.raises(ValidationError, match=r"bot\.texts\.no_such_key"):
        program_with(texts={"no_such_key": {"ru": "…"}})
    with pytest.raises(ValidationError, match=r"unknown placeholder \{phone\}"):
        program_with(texts={"points_credited": {"ru": "+{points} на {phone}"}})
    # the plural word and the store's other forms are fine
    program_with(texts={"points_credited": {"ru": "+{points} {points_word} в {store} ({store_from})"}})


@pytest.mark.parametrize(("change", "message"), [
    ({"sources": {"wb": {"kind": "insert", "channel": "nowhere"}}}, "sources.wb.channel"),
    ({"sources": {"ref_x": {"kind": "pack"}}}, "not ref_"),
    ({"onboarding": {"mars": [{"after_hours": 1, "text": "x"}]}}, "onboarding.mars"),
    ({"rewards": [{"id": "a", "title": "A", "points": 1, "min_level": "emperor"}]}, "min_level"),
    ({"rewards": [{"id": "a", "title": {"en": "A"}, "points": 1}]}, "needs its ru version"),
    ({"rewards": [{"id": "a", "title": "A", "points": 1}, {"id": "a", "title": "B", "points": 2}]}, "unique"),
    ({"survey": {"review_links": {"ozon": "http://ozon.ru"}}}, "https"),
])
def test_a_bad_bot_section_names_its_bad_key(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        program_with(**change)


def test_the_programs_own_words_take_a_translation() -> None:
    program = Program.model_validate(SEED)
    assert program.level_title("connoisseur", EN) == "Connoisseur"
    assert program.level_title("connoisseur", RU) == "Ценитель"
    assert program.channel_title("golden_apple", EN) == "Golden Apple"
    assert program.channel_title("wildberries", EN) == "Wildberries"  # one word for every language
    assert words({"ru": "Шопер"}, EN) == "Шопер"  # no translation given: Russian
    assert program.bot.source("wb") == "insert:wb" and program.bot.source("unknown") is None


def test_the_way_to_the_next_level_counts_what_is_missing() -> None:
    program = Program.model_validate(SEED)
    wallet = Wallet()
    assert present(levels.next_level_gap(program, wallet, NOW))[1] == {"receipts": 1}  # one receipt beats 3,000 ₽
    credit = postings_credit(program, wallet)
    step = postings.purchase(program, wallet, "receipt#1", credit, 45_000, "WB", "wildberries", NOW)
    upper, missing, done = present(levels.next_level_gap(program, step.wallet, NOW))
    assert (upper.id, missing, done) == ("connoisseur", {"receipts": 4, "reviews": 1}, 0.1)  # 1 of 5, 0 of 1
    assert joined([how_many(4, "receipts", RU), how_many(1, "reviews", RU)], RU) == "4 чека и 1 отзыв"
    assert joined([how_many(1, "receipts", EN), how_many(2, "reviews", EN), how_many(500, "roubles", EN)], EN) == \
        "1 receipt, 2 reviews and 500 ₽"
    top = step.wallet.model_copy(update={"level": "insider"})
    assert levels.next_level_gap(program, top, NOW) is None


def postings_credit(program: Program, wallet: Wallet) -> PurchaseCredit:
    from loyalty.contracts import PurchaseLine
    from loyalty.domain.earning import purchase_credit

    return purchase_credit(program, wallet, [PurchaseLine(name="крем", sum_kopecks=45_000)], "wildberries",
                           "marketplace", NOW)
