"""`loyalty receipt explain` and `decode`: files explained as given; QR strings and photos looked up in
the receipt service (here its emulator, over HTTP)."""

import contextlib
import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest import MonkeyPatch

from loyalty.adapters.ledger import ledger_for
from loyalty.adapters.members import MembersRepository
from loyalty.adapters.program_file import load_program
from loyalty.contracts import PurchaseLine, ReceiptAccepted, Shopper
from loyalty.domain import postings
from loyalty.domain.earning import purchase_credit
from loyalty.domain.ledger import Kind, Posting
from loyalty.domain.receipt import normalise_one
from loyalty.domain.wallet import Step, Wallet
from loyalty.settings import PointAccrualSettings
from loyalty.wiring.accrual import point_accrual
from loyalty_tools import receipt_cli
from loyalty_tools.cli import main
from loyalty_tools.local.receipt_emulator import ReceiptEmulator
from loyalty_tools.local.receipts import marketplace_receipt
from loyalty_tools.local.stack import LocalStack
from loyalty_tools.receipt_photos import Defects, receipt_photo
from tests.conftest import ROOT, SAMPLES, TEST_PROGRAM
from tests.integration.conftest import accepted_only

SAMPLE_08_QR = "t=20240917t1801&s=1285.21&fn=7281440500751551&i=30526&fp=1168453787&n=1"
KEYS = {"fiscal_key", "seller_inn", "channel", "operation", "total_kopecks", "items", "brand_sum_kopecks", "points",
        "decision", "reasons"}


def explain(source: Path | str, now: str = "2023-10-20T00:00:00+03:00") -> Any:
    out = io.StringIO()
    code = receipt_cli.explain(str(source), TEST_PROGRAM, datetime.fromisoformat(now), out)
    return code, json.loads(out.getvalue())


@pytest.fixture
def service(monkeypatch: MonkeyPatch) -> Iterator[ReceiptEmulator]:
    emulator = ReceiptEmulator("cli-token", SAMPLES)
    emulator.start()
    monkeypatch.setenv("RECEIPT_SERVICE_URL", emulator.url)
    monkeypatch.setenv("RECEIPT_SERVICE_TOKEN", "cli-token")
    yield emulator
    emulator.stop()


@pytest.mark.parametrize("sample", sorted(path.name for path in SAMPLES.glob("*.json")))
def test_every_sample_is_explained_with_the_promised_keys(sample: str) -> None:
    code, result = explain(SAMPLES / sample)
    assert code == 0 and set(result) >= KEYS
    assert isinstance(result["points"], int) and result["decision"] in {"accrue", "reject", "reverse"}
    assert result["brand_sum_kopecks"] == sum(item["sum_kopecks"] for item in result["items"] if item["brand"])


def test_the_ozon_agent_receipt_earns_on_the_brands_supplier_inn() -> None:
    code, result = explain(SAMPLES / "01_ozon_irkkt_ticket_agent_2023.json")
    assert code == 0
    assert (result["channel"], result["points"], result["decision"]) == ("ozon", 270, "accrue")
    assert result["fiscal_key"] == {"fn": "7281440501188798", "fd": 115621, "fp": 1865575866}


def test_an_old_receipt_is_explained_as_rejected_with_its_reason() -> None:
    code, result = explain(SAMPLES / "01_ozon_irkkt_ticket_agent_2023.json", now="2026-11-23T00:00:00+03:00")
    assert code == 0
    assert result["decision"] == "reject" and result["points"] == 0
    assert result["reasons"][-1]["code"] == "too_old"


def test_a_qr_string_is_looked_up_in_the_receipt_service(service: ReceiptEmulator) -> None:
    code, result = explain(SAMPLE_08_QR, now="2024-09-20T00:00:00+03:00")
    assert code == 0 and result["total_kopecks"] == 128521 and result["seller_inn"] == "7825706086"
    assert result["decision"] == "reject" and result["reasons"][-1]["code"] == "no_brand_goods"
    assert service.requests_served == 1


def test_a_photo_is_decoded_then_looked_up(service: ReceiptEmulator, tmp_path: Path) -> None:
    photo = tmp_path / "receipt.jpg"
    photo.write_bytes(receipt_photo(SAMPLE_08_QR, Defects(rotate=90, width=1280)))
    code, result = explain(photo, now="2024-09-20T00:00:00+03:00")
    assert code == 0 and result["fiscal_key"]["fd"] == 30526


def test_an_unreadable_source_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    code, result = explain(bad)
    assert code == 2 and result["reason"] == "invalid_receipt"


def test_decode_prints_each_images_qr_or_an_error_line(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.jpg", tmp_path / "bad.png"
    good.write_bytes(receipt_photo(SAMPLE_08_QR, Defects(rotate=180, tilt=0.15, width=1080)))
    bad.write_bytes(b"not an image")
    out = io.StringIO()
    assert receipt_cli.decode([str(good), str(bad)], out) == 1
    assert out.getvalue().splitlines() == [f"{good}\t{SAMPLE_08_QR}",
                                           f"{bad}\terror: not an image file (UnidentifiedImageError)"]


def test_an_unlisted_sellers_agent_receipt_earns_on_the_supplier_inn_and_names_the_seller(tmp_path: Path) -> None:
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


SHIPPED = ROOT / "program" / "program.yaml"
DEMO_BASKET = [("Лепесток крем для рук 50 мл", 45_000, 2), ("Лепесток сыворотка для лица 30 мл", 129_000, 1)]


def shipped_receipt(tmp_path: Path, fd: int,
                    lines: list[tuple[str, int, int]] = DEMO_BASKET) -> tuple[dict[str, Any], Path]:
    raw = marketplace_receipt("7700000017", lines, fd=fd)
    path = tmp_path / f"receipt-{fd}.json"
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    return raw, path


def cli(*args: str | Path) -> Any:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["receipt", "explain", *map(str, args)])
    return code, json.loads(out.getvalue())


def test_the_demo_basket_is_explained_as_the_ledger_credits_it_283_points(stack: LocalStack, tmp_path: Path) -> None:
    raw, path = shipped_receipt(tmp_path, 61)
    code, said = cli(path, "--program", SHIPPED)
    assert code == 0 and (said["points"], said["credit"]["earned"]) == (283, 283)
    rules = [reason["detail"] for reason in said["reasons"] if reason["code"] == "goods_rule"]
    assert rules == ["Лепесток сыворотка для лица 30 мл (129000 kopecks): category face: ×1.5 the rate → 193.5 points"]

    MembersRepository("MembersTable").join("612", 612, "ru")
    (posting,) = register(stack, raw, "612")
    assert posting.details.credited == 283


def register(stack: LocalStack, raw: dict[str, Any], member_id: str) -> list[Posting]:
    """The receipt through point_accrual's check and ledger, on moto, with the shipped program."""
    accrual = point_accrual(PointAccrualSettings.model_validate({
        **stack.functions.environment("PointAccrualFunction"), "PROGRAM_FILE": str(SHIPPED)}))()
    check, accepted = accepted_only(stack, SHIPPED)
    check.settle(Shopper(member_id=member_id, chat_id=int(member_id), language="ru"), normalise_one(raw),
                 f"tg-update:{raw['fiscalDocumentNumber']}", datetime.now(UTC))
    commands = [command for command in accepted.messages if isinstance(command, ReceiptAccepted)]
    return [accrual.reverse(command) if command.reverses else accrual.accrue(command) for command in commands]


def test_a_refund_is_explained_as_the_ledger_takes_it_back_from_the_purchase_it_returns(
        stack: LocalStack, tmp_path: Path) -> None:
    MembersRepository("MembersTable").join("614", 614, "ru")
    purchase, _ = shipped_receipt(tmp_path, 63)
    register(stack, purchase, "614")
    refund, path = shipped_receipt(tmp_path, 64, DEMO_BASKET[1:])
    refund["operationType"] = 2
    path.write_text(json.dumps(refund, ensure_ascii=False), encoding="utf-8")

    code, said = cli(path, "--program", SHIPPED, "--member", "614")
    assert code == 0 and (said["decision"], said["points"]) == ("reverse", -193)  # the serum's 193.5 of 283.5
    assert said["credit"]["reverses"] == str(normalise_one(purchase).key) and said["credit"]["shortfall"] == 0
    _, newcomer = cli(path, "--program", SHIPPED)
    assert (newcomer["decision"], newcomer["points"], newcomer["reasons"][-1]["code"]) == (
        "reject", 0, "refund_unmatched")
    (reversal,) = register(stack, refund, "614")
    assert (reversal.points, reversal.details.reverses) == (-193, said["credit"]["reverses"])
    _, again = cli(path, "--program", SHIPPED, "--member", "614")  # that purchase has nothing left to refund
    assert again["decision"] == "reject" and again["reasons"][-1]["code"] == "refund_unmatched"


def test_a_marked_item_that_earned_on_another_receipt_earns_nothing_again_and_explain_says_why(
        stack: LocalStack, tmp_path: Path) -> None:
    def with_codes(raw: dict[str, Any], *serials: str) -> dict[str, Any]:
        return {**raw, "items": [{**item, "productCodeNew": {"gs1m": {"gtin": "04607012345678", "sernum": serial}}}
                                 for item, serial in zip(raw["items"], serials, strict=True)]}

    MembersRepository("MembersTable").join("615", 615, "ru")
    MembersRepository("MembersTable").join("616", 616, "ru")
    first, _ = shipped_receipt(tmp_path, 65)
    first = with_codes(first, "CREAM-0001", "SERUM-0001")
    register(stack, first, "615")
    resold, path = shipped_receipt(tmp_path, 66)
    resold = with_codes(resold, "CREAM-0001", "SERUM-0002")  # the same cream, another serum
    path.write_text(json.dumps(resold, ensure_ascii=False), encoding="utf-8")

    code, said = cli(path, "--program", SHIPPED, "--member", "616")
    assert code == 0 and said["decision"] == "accrue" and said["brand_sum_kopecks"] == 129_000
    (why,) = [reason["detail"] for reason in said["reasons"] if reason["code"] == "item_earned_before"]
    assert why.startswith("Лепесток крем для рук 50 мл: item 04607012345678:CREAM-0001 earned on another receipt")
    (posting,) = register(stack, resold, "616")
    assert posting.details.credited == said["points"]  # what explain says is what the ledger credits


def test_explain_for_a_member_reads_their_level_from_the_stack_and_writes_nothing(
        stack: LocalStack, tmp_path: Path) -> None:
    program = load_program(SHIPPED)
    MembersRepository("MembersTable").join("613", 613, "ru")
    books, then = ledger_for(program, "LedgerTable", "MembersTable"), datetime.now(UTC) - timedelta(days=3)
    def bought(lot: str) -> Callable[[Wallet], Step]:
        return lambda wal: postings.purchase(program, wal, lot, purchase_credit(
            program, wal, [PurchaseLine(name="Крем", sum_kopecks=300_000)], "ozon", "marketplace", then), 300_000,
            "Ozon")

    def reviewed(entry: str) -> Callable[[Wallet], Step]:
        return lambda wal: postings.bonus(program, wal, entry, 100, "отзыв", then, review=True)

    for number in range(8):  # eight purchases, two reviews and 20 000 ₽: the top level, 15%
        lot = f"receipt#earlier{number}"
        books.apply("613", lot, Kind.ACCRUAL, bought(lot), now=then)
    for review in ("a", "b"):
        entry = f"bonus#review:{review}"
        books.apply("613", entry, Kind.BONUS, reviewed(entry), now=then)
    _, path = shipped_receipt(tmp_path, 62)
    before = stack.aws("dynamodb").get_item(TableName="MembersTable", Key={"member_id": {"S": "613"}})["Item"]
    requests = stack.moto.counter.snapshot()

    code, member = cli(path, "--program", SHIPPED, "--member", "613")
    _, newcomer = cli(path, "--program", SHIPPED)
    assert code == 0 and (member["member"], member["credit"]["level"], member["credit"]["percent"]) == (
        "613", "insider", "15")
    assert (member["points"], newcomer["points"]) == (425, 283)  # (900 + 1290 × 1.5) × 15%, and × 10%
    assert member["credit"]["cap"] is None and member["credit"]["first_purchase"] is False
    made = {key[1:] for key in stack.moto.counter.snapshot() - requests if key[0] == "functions"}
    assert made == {("dynamodb", "GetItem")}  # read only
    after = stack.aws("dynamodb").get_item(TableName="MembersTable", Key={"member_id": {"S": "613"}})["Item"]
    assert after == before
    code, missing = cli(path, "--program", SHIPPED, "--member", "no-such-member")
    assert code == 2 and missing["reason"] == "member_not_found"
