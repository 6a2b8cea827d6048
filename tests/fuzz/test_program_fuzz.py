"""The program file a marketer edits, mutated: a value swapped for a hostile one, a key removed, a list emptied, or
text that is not YAML at all. Loading it gives the program or a ProgramError that names the problem, never another
error; and what loads is used as the functions use it (a receipt judged, the texts rendered)."""

import contextlib
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest import TempPathFactory

from loyalty.adapters.program_file import ProgramError, load_program
from loyalty.domain.decision import assess
from loyalty.domain.receipt import normalise_one
from loyalty_tools.local.receipts import marketplace_receipt
from tests.conftest import FUZZ_EXAMPLES as EXAMPLES
from tests.conftest import ROOT, Tried
from tests.fuzz.mutations import mutated

SEED = yaml.safe_load((ROOT / "program" / "program.yaml").read_text(encoding="utf-8"))
FUZZ = settings(max_examples=EXAMPLES * 3, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
hostile = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=50),
                    st.sampled_from(["", "{name}", "{", "}{", "<b>", "1e309", "-0", "NaN", "∞", "10%", "0", "-1"]),
                    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(),
                                                                         max_size=2))


@FUZZ
@given(mutated([SEED], hostile))
def test_a_mutated_program_loads_or_is_refused_naming_the_problem(tmp_path_factory: TempPathFactory, tried: Tried,
                                                                  document: Any) -> None:
    tried("program file: mutated")
    path = tmp_path_factory.mktemp("program") / "program.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    try:
        program = load_program(path)
    except ProgramError as error:
        assert str(error).startswith(f"program file {path} is invalid: ") or "cannot read" in str(error)
        return
    # What loads works: a receipt of the brand's goods is judged without an error.
    receipt = normalise_one(marketplace_receipt(program.brand.supplier_inns[0] if program.brand.supplier_inns
                                                else "7700000024", [("Крем", 45000, 1)], fd=1))
    assess(receipt, program, receipt.issued_at, "1")


@FUZZ
@given(st.text(max_size=400))
def test_any_text_as_a_program_file_is_refused_cleanly(tmp_path_factory: TempPathFactory, tried: Tried,
                                                       text: str) -> None:
    tried("program file: any text")
    path = tmp_path_factory.mktemp("program") / "program.yaml"
    path.write_text(text, encoding="utf-8")
    with contextlib.suppress(ProgramError):
        load_program(path)
