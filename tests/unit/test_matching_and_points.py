import json
from decimal import Decimal
from pathlib import Path

import pytest

from loyalty.adapters.program_file import load_program
from loyalty.contracts import PurchaseLine
from loyalty.domain.matching import match_brand_goods
from loyalty.domain.places import StoreForms
from loyalty.domain.points import purchase_points
from loyalty.domain.program import Channel
from loyalty.domain.receipt import normalise_one
from loyalty_tools.local.receipts import marketplace_receipt
from tests.conftest import SAMPLES, TEST_PROGRAM

PROGRAM = load_program(TEST_PROGRAM)


def test_marketplace_receipt_earns_on_the_brands_supplier_inn() -> None:
    receipt = normalise_one(json.loads((SAMPLES / "01_ozon_irkkt_ticket_agent_2023.json").read_text()))
    match = match_brand_goods(receipt, PROGRAM)
    assert match.channel == "ozon" and match.brand_sum_kopecks == 270100 and match.store == "Ozon"
    assert match.lines[0].matched_by == "supplier_inn"


def test_other_suppliers_on_a_marketplace_earn_nothing() -> None:
    raw = marketplace_receipt("7700000099", [("Чужой товар", 10000, 1)], fd=1)
    match = match_brand_goods(normalise_one(raw), PROGRAM)
    assert match.channel == "wildberries" and match.lines == ()


def test_own_receipts_earn_on_goods_but_not_on_delivery() -> None:
    raw = marketplace_receipt("7700000017", [("Крем", 50000, 1), ("Доставка", 30000, 1)], fd=2,
                              seller_inn="7700000017", retail_place="brand.ru")
    raw["items"][1]["productType"] = 4
    for item in raw["items"]:
        item.pop("paymentAgentByProductType")
    match = match_brand_goods(normalise_one(raw), PROGRAM)
    assert match.channel == "d2c" and [line.name for line in match.lines] == ["Крем"]


def test_retail_chain_receipt_earns_on_catalog_gtin_with_its_category() -> None:  # also: a registered retail chain
    raw = marketplace_receipt("7700000099", [("Крем для рук", 45000, 1), ("Шампунь", 30000, 1)], fd=3,
                              seller_inn="6671156423", retail_place="Золотое Яблоко")
    raw["items"][0]["productCodeNew"] = {"gs1m": {"gtin": "04601234567893"}}
    receipt = normalise_one(raw)
    match = match_brand_goods(receipt, PROGRAM)
    assert match.channel == "golden_apple" and match.brand_sum_kopecks == 45000
    assert match.lines[0].category == "care" and match.lines[0].matched_by == "gtin"
    assert match.store == "Золотое Яблоко"


@pytest.mark.parametrize(("kopecks", "percent", "points"), [
    (270100, Decimal(10), 270),  # 270.10 -> 270: fractions are dropped per receipt
    (999, Decimal(10), 0),
    (100000, Decimal("12.5"), 125),
    (0, Decimal(10), 0),
    (-500, Decimal(10), 0),
])
def test_points_are_whole_roubles_rounded_down(kopecks: int, percent: Decimal, points: int) -> None:
    assert purchase_points([PurchaseLine(name="Крем", sum_kopecks=kopecks)], PROGRAM, percent) == points


def test_in_an_unknown_store_a_name_pattern_finds_the_goods_whatever_the_spelling() -> None:
    raw = marketplace_receipt("7700000099", [("ТЕСТ-БРЕНД крем д/рук", 45000, 1), ("Хлеб", 5000, 1),
                                              ("Кpeм TEСT-бренд  ночной", 60000, 1)],  # Latin look-alikes
                              fd=4, seller_inn="7800000001", retail_place="Магазин у дома")
    for item in raw["items"]:
        item.pop("paymentAgentByProductType")
    match = match_brand_goods(normalise_one(raw), PROGRAM)
    assert match.channel == "other" and match.store == "Магазин у дома"
    assert [line.sum_kopecks for line in match.lines] == [45000, 60000]
    assert {line.matched_by for line in match.lines} == {"name"}


def test_a_retail_place_hint_tells_apart_two_stores_of_one_company(tmp_path: Path) -> None:
    program = PROGRAM.model_copy(update={"channels": [
        *PROGRAM.channels,
        Channel(name="shop_a", title="Магазин А", kind="retail", inns=["7800000002"], retail_places=["Store A"],
                forms=StoreForms(at="в Магазине А", from_="из Магазина А")),
        Channel(name="shop_b", title="Магазин Б", kind="retail", inns=["7800000002"],
                forms=StoreForms(at="в Магазине Б", from_="из Магазина Б")),
    ]})
    raw = marketplace_receipt("7700000099", [("Хлеб", 5000, 1)], fd=5, seller_inn="7800000002",
                              retail_place="STORE A, Тверская 1")
    assert match_brand_goods(normalise_one(raw), program).channel == "shop_a"
    raw["retailPlace"] = "Другая вывеска"
    assert match_brand_goods(normalise_one(raw), program).channel == "shop_b"


def test_marketplace_lines_of_other_suppliers_do_not_earn_even_with_the_brand_name() -> None:
    raw = marketplace_receipt("7700000099", [("Тест-Бренд крем (подделка)", 45000, 1)], fd=6)
    assert match_brand_goods(normalise_one(raw), PROGRAM).lines == ()


@pytest.mark.parametrize(("seller_inn", "retail_place", "channel"), [
    ("7800000003", "market.example.ru", "other"),  # a marketplace the registry does not know yet
    ("6671156423", "goldapple.ru/marketplace", "golden_apple"),  # a retail chain's own marketplace
])
def test_an_agent_line_supplied_by_the_brand_earns_at_any_seller(seller_inn: str, retail_place: str,
                                                                 channel: str) -> None:
    raw = marketplace_receipt("7700000024", [("Сыворотка 30 мл", 120000, 1)], fd=6, seller_inn=seller_inn,
                              retail_place=retail_place)
    match = match_brand_goods(normalise_one(raw), PROGRAM)
    assert match.channel == channel and [(line.matched_by, line.sum_kopecks) for line in match.lines] == [
        ("supplier_inn", 120000)]


def test_agent_data_on_the_line_makes_it_an_agent_line_too() -> None:
    raw = marketplace_receipt("7700000024", [("Сыворотка 30 мл", 120000, 1)], fd=7, seller_inn="7800000003")
    raw["items"][0].pop("paymentAgentByProductType")
    assert match_brand_goods(normalise_one(raw), PROGRAM).lines == ()  # providerInn alone is not agency
    raw["items"][0]["providerData"] = {"providerName": "ООО Тест-Бренд", "providerPhone": "+70000000000"}
    assert [line.matched_by for line in match_brand_goods(normalise_one(raw), PROGRAM).lines] == ["supplier_inn"]


def test_at_an_unlisted_seller_another_suppliers_goods_and_the_sellers_own_goods_earn_nothing() -> None:
    raw = marketplace_receipt("7700000099", [("Сыворотка 30 мл", 120000, 1)], fd=8, seller_inn="7800000003")
    assert match_brand_goods(normalise_one(raw), PROGRAM).lines == ()
    own = marketplace_receipt("7700000024", [("Сыворотка 30 мл", 120000, 1)], fd=9, seller_inn="7800000003")
    for item in own["items"]:
        item.pop("paymentAgentByProductType")  # the seller's own goods: a supplier INN proves nothing there
    assert match_brand_goods(normalise_one(own), PROGRAM).lines == ()
