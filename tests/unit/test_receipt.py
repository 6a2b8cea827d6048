"""Each sample shape parses into the one normalised model; fields are checked against the file."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from loyalty.domain.errors import InvalidReceipt
from loyalty.domain.qr import FiscalKey
from loyalty.domain.receipt import MOSCOW, normalise, normalise_one
from tests.conftest import SAMPLES, present


def load(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text(encoding="utf-8"))


def test_fns_app_ticket_of_an_ozon_agent_receipt() -> None:
    receipt = normalise_one(load("01_ozon_irkkt_ticket_agent_2023.json"))
    assert receipt.key == FiscalKey(fn="7281440501188798", fd=115621, fp=1865575866)
    assert receipt.seller_inn == "7704217370"  # padded to 12 in the file
    assert receipt.issued_at == datetime(2023, 10, 16, 13, 13, tzinfo=MOSCOW)  # unix, = the QR's local time
    assert receipt.total_kopecks == 270100 and receipt.prepaid_kopecks == 270100
    (item,) = receipt.items
    assert item.supplier_inn == "7717144513" and item.agent_flags == 64
    assert item.sum_kopecks == 270100 and item.payment_type == 4 and item.product_type == 1
    assert receipt.retail_place == "ozon.ru"


def test_fns_app_export_array_of_a_prepayment_receipt() -> None:
    (receipt,) = normalise(load("03_ozon_fnsapp_export_prepayment_2024.json"))
    assert receipt.key == FiscalKey(fn="7380440801033258", fd=215785, fp=2905316734)
    assert receipt.issued_at == datetime(2024, 12, 29, 17, 39, tzinfo=MOSCOW)  # ISO local, read as Moscow
    assert receipt.ecash_kopecks == 58600
    (item,) = receipt.items
    assert (item.payment_type, item.product_type, item.quantity) == (1, 10, Decimal(2))


def test_proverkacheka_full_response_with_weight_goods() -> None:
    receipt = normalise_one(load("08_pyaterochka_proverkacheka_full_response_2024.json"))
    assert receipt.key == FiscalKey(fn="7281440500751551", fd=30526, fp=1168453787)
    assert receipt.total_kopecks == 128521 and len(receipt.items) == 6
    assert receipt.items[0].quantity == Decimal("2.474")
    assert receipt.items[0].name == "*Тыква 1кг"  # runs of spaces collapsed
    assert sum(item.sum_kopecks for item in receipt.items) == receipt.total_kopecks
    assert present(receipt.model_extra)["region"] == "27"  # unknown fields are kept, on the receipt and its items
    assert present(receipt.items[0].model_extra)["itemsQuantityMeasure"] == 11


def test_proverkacheka_data_json_ffd_105_with_an_unpadded_12_digit_inn() -> None:
    receipt = normalise_one(load("10_ip_pub_proverkacheka_json_ffd105_2023.json"))
    assert receipt.seller_inn == "262901602791"
    assert receipt.key.fp == 2699635242
    assert {item.product_type for item in receipt.items} == {2}  # excise goods
    assert receipt.total_kopecks == 154500


def test_legacy_ticket_with_receipt_code_and_seller_outside_the_receipt() -> None:
    receipt = normalise_one(load("12_lenta_irkkt_ticket_legacy_2020.json"))
    assert receipt.seller_inn == "7814148471"
    assert receipt.issued_at == datetime(2020, 7, 9, 17, 8, tzinfo=UTC)
    assert len(receipt.items) == 50
    assert all(item.payment_type is None for item in receipt.items)


def test_gtin_from_marking_codes_is_zero_padded_to_14_digits() -> None:
    raw = load("10_ip_pub_proverkacheka_json_ffd105_2023.json")
    raw["items"][0]["productCodeData"] = {"gtin": 4601234567893, "sernum": "x"}
    raw["items"][1]["productCodeNew"] = {"gs1m": {"gtin": "04601234567893", "sernum": "y"}}
    receipt = normalise_one(raw)
    assert receipt.items[0].gtin == receipt.items[1].gtin == "04601234567893"


@pytest.mark.parametrize("document", [
    None, 42, "text", [], {}, {"ticket": {}}, {"code": 1, "data": "oops"},
    {"items": [], "fiscalDriveNumber": "1"},  # no fiscal document number
    {"items": "x", "fiscalDriveNumber": "1", "fiscalDocumentNumber": 1, "fiscalSign": 1, "totalSum": 1,
     "dateTime": 1},
])
def test_what_is_not_a_receipt_is_a_clear_domain_error(document: Any) -> None:
    with pytest.raises(InvalidReceipt):
        normalise(document)


def test_a_zoneless_time_is_read_in_moscows_zone_of_its_day() -> None:
    def issued(date_time: str) -> timedelta | None:
        raw = {"fiscalDriveNumber": "1", "fiscalDocumentNumber": 1, "fiscalSign": 1, "totalSum": 100, "items": [],
               "dateTime": date_time}
        return normalise_one(raw).issued_at.utcoffset()

    assert issued("2026-11-23T12:00:00") == timedelta(hours=3)
    assert issued("2013-11-23T12:00:00") == timedelta(hours=4)  # Moscow kept UTC+4 from 2011 to October 2014
