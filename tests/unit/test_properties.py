"""Property-based: whatever text or JSON arrives, the outcome is a valid result or a clear domain error."""

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty.domain.errors import InvalidQr, InvalidReceipt
from loyalty.domain.qr import parse_qr
from loyalty.domain.receipt import normalise

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=20,
)
RECEIPT_KEYS = ["fiscalDriveNumber", "fiscalDocumentNumber", "fiscalSign", "dateTime", "totalSum", "items",
                "userInn", "operationType", "prepaidSum", "ticket", "document", "receipt", "data", "code", "json"]
receipt_like = st.recursive(
    st.dictionaries(st.sampled_from(RECEIPT_KEYS), json_values, max_size=8),
    lambda children: (st.dictionaries(st.sampled_from(RECEIPT_KEYS), children, max_size=4)
                      | st.lists(children, max_size=3)),
    max_leaves=10,
)
qr_fields = st.fixed_dictionaries({}, optional={
    name: st.one_of(st.text(max_size=18), st.from_regex(pattern, fullmatch=True))
    for name, pattern in {"t": r"\d{8}[Tt]\d{4,6}", "s": r"\d{1,7}(\.\d{2})?", "fn": r"\d{16}",
                          "i": r"\d{1,10}", "fp": r"\d{1,10}", "n": r"[0-9]"}.items()
})


@given(st.text(max_size=300))
def test_any_text_is_a_query_or_invalid_qr(text: str) -> None:
    try:
        query = parse_qr(text)
    except InvalidQr:
        return
    assert parse_qr(query.to_qr()) == query


@given(qr_fields, st.sampled_from(["&", " & ", "\n&"]), st.sampled_from(["", "https://x.ru/?", "чек: "]))
def test_near_qr_text_is_a_query_or_invalid_qr(fields: dict[str, str], separator: str, prefix: str) -> None:
    text = prefix + separator.join(f"{name}={value}" for name, value in fields.items())
    try:
        query = parse_qr(text)
    except InvalidQr:
        return
    assert 0 <= query.key.fp < 2**32 and query.total_kopecks >= 0 and 1 <= query.operation <= 4


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(json_values, receipt_like))
def test_any_json_is_receipts_or_invalid_receipt(document: Any) -> None:
    try:
        receipts = normalise(document)
    except InvalidReceipt:
        return
    for receipt in receipts:
        assert receipt.issued_at.tzinfo is not None
        assert all(isinstance(item.sum_kopecks, int) for item in receipt.items)
