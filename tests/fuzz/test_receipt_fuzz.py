"""The receipt normaliser and the QR parser on real receipts (tests/data/receipts, copies of the shared samples)
mutated: a value swapped for a hostile one or removed, a QR string cut, spliced or garbled. The outcome is receipts
(or a query) or InvalidReceipt (InvalidQr), never another error."""

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty.domain.errors import InvalidQr, InvalidReceipt
from loyalty.domain.qr import parse_qr
from loyalty.domain.receipt import find_raw_receipts, normalise
from loyalty_tools.local.receipts import qr_of
from tests.conftest import FUZZ_EXAMPLES as EXAMPLES
from tests.conftest import SAMPLES, Tried
from tests.fuzz.mutations import mutated

FUZZ = settings(max_examples=EXAMPLES * 5, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
DOCUMENTS = [json.loads(path.read_text(encoding="utf-8")) for path in sorted(SAMPLES.glob("*.json"))]
QRS = [qr_of(raw) for document in DOCUMENTS for raw in find_raw_receipts(document)]
hostile = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=30),
                    st.sampled_from(["", "2024-13-45T25:61", "1e400", "-1", "9" * 40, "NaN", [], {}]))


@FUZZ
@given(mutated(DOCUMENTS, hostile, most=4))
def test_a_mutated_real_receipt_normalises_or_is_invalid(tried: Tried, document: Any) -> None:
    tried("receipt normaliser: mutated samples")
    try:
        receipts = normalise(document)
    except InvalidReceipt:
        return
    for receipt in receipts:
        assert receipt.issued_at.tzinfo is not None and receipt.total_kopecks >= 0
        assert all(isinstance(item.sum_kopecks, int) for item in receipt.items)


@st.composite
def garbled_qrs(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(QRS))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        match draw(st.sampled_from(["cut", "insert", "replace"])):
            case "cut":
                text = text[:at] + text[at + draw(st.integers(1, 5)):]
            case "insert":
                text = text[:at] + draw(st.text(max_size=6)) + text[at:]
            case _:
                text = text[:at] + draw(st.sampled_from(["&", "=", "9" * 30, "-", ".", "T", " ", "%00"])) + text[at:]
    return text


@FUZZ
@given(garbled_qrs())
def test_a_garbled_real_qr_is_a_query_or_invalid(tried: Tried, text: str) -> None:
    tried("QR parser: garbled real codes")
    try:
        query = parse_qr(text)
    except InvalidQr:
        return
    assert parse_qr(query.to_qr()) == query
