"""`loyalty members import`: how a row of another loyalty system's file is read, and why one is refused."""

from datetime import UTC, datetime

import pytest

from loyalty_tools.members_cli import Rejected, normalised_phone, read_row
from tests.unit.flows.conftest import PROGRAM

NOW = datetime(2026, 11, 30, 9, tzinfo=UTC)


@pytest.mark.parametrize(("written", "phone"), [
    ("+7 (916) 123-45-67", "+79161234567"), ("8 916 123 45 67", "+79161234567"), ("9161234567", "+79161234567"),
    ("79161234567", "+79161234567"), ("+7 495 123-45-67", None), ("12345", None), ("", None), ("+380501234567", None),
])
def test_a_russian_mobile_number_is_read_however_it_was_written(written: str, phone: str) -> None:
    assert normalised_phone(written) == phone


def test_a_full_row_is_read_with_its_expiry_at_the_end_of_that_day_in_moscow() -> None:
    row = read_row(PROGRAM, 2, {"phone": "8 916 123 45 67", "telegram_id": "42", "name": " Анна ", "points": "1200",
                                "points_expire_on": "31.03.2027", "level": "ЦЕНИТЕЛЬ", "card": "gold"}, NOW)
    assert (row.phone, row.telegram_id, row.name, row.points, row.level) == ("+79161234567", 42, "Анна", 1200,
                                                                             "connoisseur")
    assert row.expires_at is not None and row.expires_at.isoformat() == "2027-04-01T00:00:00+03:00"


@pytest.mark.parametrize(("cells", "reason"), [
    ({"phone": "12345"}, "bad phone"),
    ({"phone": "+79161234567", "points": "-1"}, "negative balance -1"),
    ({"phone": "+79161234567", "points": "1.5"}, "bad points"),
    ({"phone": "+79161234567", "level": "platinum"}, "unknown level 'platinum'"),
    ({"phone": "+79161234567", "telegram_id": "-4"}, "bad telegram_id"),
    ({"phone": "+79161234567", "points_expire_on": "2020-01-01"}, "points_expire_on 2020-01-01 has passed"),
    ({"phone": "+79161234567", "points_expire_on": "soon"}, "bad points_expire_on"),
])
def test_a_bad_row_is_refused_with_a_reason_an_operator_can_act_on(cells: dict[str, str | None], reason: str) -> None:
    with pytest.raises(Rejected, match=reason):
        read_row(PROGRAM, 2, cells, NOW)
