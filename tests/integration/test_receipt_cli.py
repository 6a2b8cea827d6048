"""`loyalty receipt explain` and `decode`: files explained as given; QR strings and photos looked up in
the receipt service (here its emulator, over HTTP)."""

import io
import json
from datetime import datetime

import pytest

from loyalty_tools import receipt_cli
from loyalty_tools.local.receipt_emulator import ReceiptEmulator
from loyalty_tools.local.receipts import marketplace_receipt
from loyalty_tools.receipt_photos import Defects, receipt_photo
from tests.conftest import SAMPLES, TEST_PROGRAM

SAMPLE_08_QR = "t=20240917t1801&s=1285.21&fn=7281440500751551&i=30526&fp=1168453787&n=1"
KEYS = {"fiscal_key", "seller_inn", "channel", "operation", "total_kopecks", "items", "brand_sum_kopecks", "points",
        "decision", "reasons"}


def explain(source, now="2023-10-20T00:00:00+03:00"):
    out = io.StringIO()
    code = receipt_cli.explain(str(source), TEST_PROGRAM, datetime.fromisoformat(now), out)
    return code, json.loads(out.getvalue())


@pytest.fixture
def service(monkeypatch):
    emulator = ReceiptEmulator("cli-token", SAMPLES)
    emulator.start()
    monkeypatch.setenv("RECEIPT_SERVICE_URL", emulator.url)
    monkeypatch.setenv("RECEIPT_SERVICE_TOKEN", "cli-token")
    yield emulator
    emulator.stop()


@pytest.mark.parametrize("sample", sorted(path.name for path in SAMPLES.glob("*.json")))
def test_every_sample_is_explained_with_the_promised_keys(sample):
    code, result = explain(SAMPLES / sample)
    assert code == 0 and set(result) >= KEYS
    assert isinstance(result["points"], int) and result["decision"] in {"accrue", "reject", "reverse"}
    assert result["brand_sum_kopecks"] == sum(item["sum_kopecks"] for item in result["items"] if item["brand"])


def test_the_ozon_agent_receipt_earns_on_the_brands_supplier_inn():
    code, result = explain(SAMPLES / "01_ozon_irkkt_ticket_agent_2023.json")
    assert code == 0
    assert (result["channel"], result["points"], result["decision"]) == ("ozon", 270, "accrue")
    assert result["fiscal_key"] == {"fn": "7281440501188798", "fd": 115621, "fp": 1865575866}


def test_an_old_receipt_is_explained_as_rejected_with_its_reason():
    code, result = explain(SAMPLES / "01_ozon_irkkt_ticket_agent_2023.json", now="2026-11-23T00:00:00+03:00")
    assert code == 0
    assert result["decision"] == "reject" and result["points"] == 0
    assert result["reasons"][-1]["code"] == "too_old"


def test_a_qr_string_is_looked_up_in_the_receipt_service(service):
    code, result = explain(SAMPLE_08_QR, now="2024-09-20T00:00:00+03:00")
    assert code == 0 and result["total_kopecks"] == 128521 and result["seller_inn"] == "7825706086"
    assert result["decision"] == "reject" and result["reasons"][-1]["code"] == "no_brand_goods"
    assert service.requests_served == 1


def test_a_photo_is_decoded_then_looked_up(service, tmp_path):
    photo = tmp_path / "receipt.jpg"
    photo.write_bytes(receipt_photo(SAMPLE_08_QR, Defects(rotate=90, width=1280)))
    code, result = explain(photo, now="2024-09-20T00:00:00+03:00")
    assert code == 0 and result["fiscal_key"]["fd"] == 30526


def test_an_unreadable_source_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    code, result = explain(bad)
    assert code == 2 and result["reason"] == "invalid_receipt"


def test_decode_prints_each_images_qr_or_an_error_line(tmp_path):
    good, bad = tmp_path / "good.jpg", tmp_path / "bad.png"
    good.write_bytes(receipt_photo(SAMPLE_08_QR, Defects(rotate=180, tilt=0.15, width=1080)))
    bad.write_bytes(b"not an image")
    out = io.StringIO()
    assert receipt_cli.decode([str(good), str(bad)], out) == 1
    assert out.getvalue().splitlines() == [f"{good}\t{SAMPLE_08_QR}",
                                           f"{bad}\terror: not an image file (UnidentifiedImageError)"]


def test_an_unlisted_sellers_agent_receipt_earns_on_the_supplier_inn_and_names_the_seller(tmp_path):
    supplied, other = tmp_path / "supplied.json", tmp_path / "other.json"
    for path, supplier, fd in ((supplied, "7700000024", 11), (other, "7700000099", 12)):
        path.write_text(json.dumps(marketplace_receipt(
            supplier, [("Сыворотка 30 мл", 120000, 1)], fd=fd, seller_inn="7800000003", seller="ООО «Агрегатор»",
            retail_place="agregator.example.ru", issued_at=datetime.fromisoformat("2023-10-19T12:00:00+03:00"))))
    code, result = explain(supplied)
    assert code == 0 and (result["channel"], result["decision"], result["points"]) == ("other", "accrue", 120)
    assert (result["seller_inn"], result["retail_place"], result["store"]) == (
        "7800000003", "agregator.example.ru", "agregator.example.ru")
    assert result["credit"]["pending_days"] == 0  # pending_days.default of the test program (none: 0)
    code, result = explain(other)
    assert code == 0 and (result["decision"], result["points"]) == ("reject", 0)
    assert result["reasons"][-1]["code"] == "no_brand_goods"
