"""The program's snapshot (adapters/program_file.py): what `sam build` validated, read at a cold start instead of the
file, and never in place of a file it was not made of."""

import logging
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from loyalty.adapters import program_file
from loyalty.adapters.program_file import ProgramError, cached_program, load_program, write_snapshot
from tests.conftest import ROOT

SHIPPED = ROOT / "program" / "program.yaml"


@pytest.fixture
def program_copy(tmp_path: Path) -> Iterator[Path]:
    cached_program.cache_clear()
    yield Path(shutil.copy(SHIPPED, tmp_path / "program.yaml"))
    cached_program.cache_clear()


def _never_parsed(*_: object) -> None:
    raise AssertionError("the program file was parsed")


def test_a_function_with_the_snapshot_runs_the_program_validated_at_build_without_parsing_the_file(
        program_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    snapshot = program_copy.with_suffix(".snapshot")
    written = write_snapshot(program_copy, snapshot)
    monkeypatch.setattr(program_file, "_validated", _never_parsed)
    program = cached_program(str(program_copy), str(snapshot))
    assert program == written and program.levels


def test_the_snapshot_equals_the_file_read_as_ever(program_copy: Path) -> None:
    snapshot = program_copy.with_suffix(".snapshot")
    write_snapshot(program_copy, snapshot)
    assert cached_program(str(program_copy), str(snapshot)) == load_program(program_copy)


def test_a_file_changed_after_the_build_is_read_and_its_stale_snapshot_left_with_a_warning(
        program_copy: Path, caplog: pytest.LogCaptureFixture) -> None:
    snapshot = program_copy.with_suffix(".snapshot")
    write_snapshot(program_copy, snapshot)
    text = program_copy.read_text(encoding="utf-8")
    assert "base_percent: 10\n" in text
    program_copy.write_text(text.replace("base_percent: 10\n", "base_percent: 7\n", 1), encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        program = cached_program(str(program_copy), str(snapshot))
    assert program.earning.base_percent == 7
    assert "snapshot is of another program file" in caplog.text


@pytest.mark.parametrize("damage", [b"", b"not a pickle", b"\x80\x05N."])
def test_a_damaged_snapshot_is_passed_over_for_the_file(program_copy: Path, damage: bytes,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    snapshot = program_copy.with_suffix(".snapshot")
    snapshot.write_bytes(damage)
    with caplog.at_level(logging.WARNING):
        program = cached_program(str(program_copy), str(snapshot))
    assert program == load_program(program_copy)
    assert "snapshot unreadable" in caplog.text


def test_no_snapshot_reads_the_file(program_copy: Path) -> None:
    assert cached_program(str(program_copy), str(program_copy.with_suffix(".absent"))) == load_program(program_copy)


def test_the_builds_step_refuses_a_bad_program_naming_the_key_and_writes_nothing(tmp_path: Path) -> None:
    bad, snapshot = tmp_path / "program.yaml", tmp_path / "program.snapshot"
    bad.write_text("brand: {name: X, supplier_inns: ['12ab']}\nearning: {base_percent: 10}\n")
    done = subprocess.run([sys.executable, "-m", "loyalty.adapters.program_file", str(bad), str(snapshot)],
                          capture_output=True, text=True, check=False)
    assert done.returncode != 0
    assert "brand.supplier_inns" in done.stderr and not snapshot.exists()
    with pytest.raises(ProgramError):
        write_snapshot(bad, snapshot)
