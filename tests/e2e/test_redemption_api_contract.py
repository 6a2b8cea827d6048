"""The redemption API against its OpenAPI document: the document is generated from the code and kept in
docs/, and schemathesis throws generated requests (valid and invalid) at the local stack's API over HTTP
and checks every answer against the document: no server error, only documented status codes and bodies,
invalid input refused."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.specs.openapi.checks import positive_data_acceptance, unsupported_method

from loyalty.adapters.ledger import ledger_for
from loyalty.adapters.members import MembersRepository
from loyalty.adapters.program_file import load_program
from loyalty.domain import postings
from loyalty.domain.ledger import Kind
from loyalty_tools.local.stack import LocalStack
from loyalty_tools.openapi import DOCUMENT, redemption_openapi
from tests.conftest import FUZZ_EXAMPLES, Tried, deployed

pytestmark = pytest.mark.e2e
MEMBER = "5550001"


def test_the_committed_document_is_the_one_the_code_generates() -> None:
    assert json.loads(DOCUMENT.read_text(encoding="utf-8")) == redemption_openapi(), \
        "docs/redemption-api.json is stale: run `loyalty openapi`"


@pytest.fixture(scope="module")
def api_stack() -> Iterator[LocalStack]:
    with deployed(retry_base_seconds=0) as stack, pytest.MonkeyPatch.context() as env:
        for name, value in stack.client_environment().items():
            env.setenv(name, value)
        program = load_program(stack.functions.environment("RedemptionApiFunction")["PROGRAM_FILE"])
        MembersRepository("MembersTable").join(MEMBER, int(MEMBER), "ru")
        ledger_for(program, "LedgerTable", "MembersTable").apply(
            MEMBER, "bonus#welcome", Kind.BONUS,
            lambda wal: postings.bonus(program, wal, "bonus#welcome", 5000, "бонус", datetime.now(UTC)))
        yield stack


# Loaded at collection (schemathesis's lazy `from_fixture` does not run on pytest 9): the document needs no stack.
schema = schemathesis.openapi.from_dict(redemption_openapi())


@schema.parametrize()
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_answer_is_documented_and_no_request_breaks_the_api(case: Case[Any], api_stack: LocalStack,
                                                                  tried: Tried) -> None:
    tried("redemption API: generated requests")
    broken = {location.value for location, component in (case.meta.components if case.meta else {}).items()
              if component.mode == "negative"}
    # Half the valid requests name the member who has points, so holds, commits and releases really happen.
    if not broken and hash(str(case.body)) % 2 == 0:
        if "member_id" in (case.path_parameters or {}):
            case.path_parameters["member_id"] = MEMBER
        if isinstance(case.body, dict) and "member_id" in case.body:
            case.body["member_id"] = MEMBER
    # The API key goes with every request whose headers are not the broken part (that one tests the 403).
    headers = {} if "header" in broken else {"x-api-key": api_stack.api_key}
    # Valid input may still be refused by the books (no such member or hold: 404; too few points: 409), and
    # API Gateway answers a method no route declares with 403 "Missing Authentication Token", not 405.
    case.call_and_validate(base_url=api_stack.api.url, headers=headers,
                           excluded_checks=[positive_data_acceptance, unsupported_method])
