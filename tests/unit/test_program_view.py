"""The reviewed program file as the console shows it, read-only and in words (no I/O)."""

from loyalty.domain.program_view import program_view, version_of
from tests.conftest import ROOT
from tests.unit.test_segments_and_campaigns import SEED


def test_the_console_shows_the_seeds_levels_rates_and_rules_in_words_with_the_files_version() -> None:
    text = (ROOT / "program" / "program.yaml").read_bytes()
    view = program_view(SEED, version_of(text))
    assert len(view.version) == 12 and view.version == version_of(text) != version_of(text + b"\n")
    assert [(level.title, level.percent) for level in view.levels] == [
        ("Знакомство", "10 %"), ("Подруга", "10 %"), ("Ценитель", "12 %"), ("Инсайдер", "15 %")]
    assert view.levels[0].opens == "с первого дня"
    assert view.levels[1].opens == "1 покупка или покупки на 3 000 ₽"
    assert "Категория «face»: баллы ×1,5." in view.earning
    assert "«Лепесток крем для рук 50 мл»: баллами до 50 % цены." in view.earning
    assert any(rule.startswith("Баллы сгорают через 365 дн., в конце месяца") for rule in view.earning)
    assert [product.key for product in view.products] == ["04600000000017", "04600000000024"]
    assert {(source.via, source.title) for source in view.sources} >= {("insert:wb", "вкладыш Wildberries (wb)"),
                                                                      ("blogger:blog", "блогер (blog)")}
