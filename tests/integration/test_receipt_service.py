"""The proverkacheka client against the receipt-service emulator, over HTTP: every answer code mapped."""

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from loyalty.adapters.receipt_service import Proverkacheka
from loyalty.domain.errors import ReceiptNotFound, ReceiptServiceUnavailable
from loyalty.domain.qr import parse_qr
from loyalty.domain.receipt import normalise_one
from loyalty_tools.local.receipt_emulator import ReceiptEmulator
from tests.conftest import SAMPLES

SAMPLE_QR = "t=20240917t1801&s=1285.21&fn=7281440500751551&i=30526&fp=1168453787&n=1"  # sample 08


@pytest.fixture(scope="module")
def service() -> Iterator[ReceiptEmulator]:
    emulator = ReceiptEmulator("token-1", SAMPLES)
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture(autouse=True)
def fresh(service: ReceiptEmulator) -> None:
    service.reset()


def control(service: ReceiptEmulator, path: str, payload: dict[str, Any]) -> None:
    request = urllib.request.Request(service.url + path, data=json.dumps(payload).encode(), method="POST")
    urllib.request.urlopen(request, timeout=5).close()


def test_a_known_receipt_comes_back_whole(service: ReceiptEmulator) -> None:
    document = Proverkacheka(service.url, "token-1").fetch(parse_qr(SAMPLE_QR))
    receipt = normalise_one(document)
    assert str(receipt.key) == "7281440500751551:30526:1168453787" and receipt.total_kopecks == 128521


def test_the_fields_form_finds_the_same_receipt(service: ReceiptEmulator) -> None:
    by_qr = Proverkacheka(service.url, "token-1").fetch(parse_qr(SAMPLE_QR))
    by_fields = Proverkacheka(service.url, "token-1", by_fields=True).fetch(parse_qr(SAMPLE_QR))
    assert normalise_one(by_fields) == normalise_one(by_qr)


def test_every_sample_shape_is_served_by_fiscal_key(service: ReceiptEmulator) -> None:
    assert len(service.receipts) == len(list(SAMPLES.glob("*.json")))


def test_code_0_means_the_receipt_is_not_valid(service: ReceiptEmulator) -> None:
    with pytest.raises(ReceiptNotFound):
        Proverkacheka(service.url, "token-1").fetch(parse_qr(SAMPLE_QR.replace("s=1285.21", "s=1285.20")))


@pytest.mark.parametrize(("failure", "retry_after"), [
    ({"code": 2}, None), ({"code": 3}, 900), ({"code": 4}, None), ({"code": 5}, None),
    ({"http_status": 502}, None), ({"http_status": 500}, None),
])
def test_transient_answers_mean_ask_again_later(service: ReceiptEmulator, failure: dict[str, int],
                                                retry_after: int | None) -> None:
    control(service, "/emulator/fail", failure)
    with pytest.raises(ReceiptServiceUnavailable) as error:
        Proverkacheka(service.url, "token-1").fetch(parse_qr(SAMPLE_QR))
    assert error.value.retry_after_seconds == retry_after


def test_a_slow_service_times_out_as_unavailable(service: ReceiptEmulator) -> None:
    control(service, "/emulator/delay", {"seconds": 1.0})
    with pytest.raises(ReceiptServiceUnavailable, match="unreachable"):
        Proverkacheka(service.url, "token-1", timeout_seconds=0.2).fetch(parse_qr(SAMPLE_QR))


def test_a_wrong_token_is_a_failure_not_a_missing_receipt(service: ReceiptEmulator) -> None:
    with pytest.raises(ReceiptServiceUnavailable):
        Proverkacheka(service.url, "wrong").fetch(parse_qr(SAMPLE_QR))


def test_an_unreachable_service_is_unavailable() -> None:
    with pytest.raises(ReceiptServiceUnavailable):
        Proverkacheka("http://127.0.0.1:9", "t", timeout_seconds=0.5).fetch(parse_qr(SAMPLE_QR))
