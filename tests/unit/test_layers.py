"""The layers hold: the domain is pure, and a flow knows the outside world only through its ports
(loyalty/flows/ports.py), so every flow runs on the fakes in tests/fakes.py."""

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "layers" / "loyalty" / "loyalty"
# Readers of outside formats, pure functions with no I/O and nothing to fake: Telegram's updates (the webhook's
# edge) and the QR code in a receipt's photo (receipt_check).
FLOW_MAY_IMPORT = {"webhook": {"loyalty.adapters.bot_api_update", "loyalty.adapters.telegram", "loyalty.adapters"},
                   "receipt_check": {"loyalty.adapters.qr_image"}}


def imported(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names
                                      if node.module == "loyalty.adapters"}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


@pytest.mark.parametrize("path", sorted((PACKAGE / "flows").glob("*.py")), ids=lambda path: path.stem)
def test_a_flow_reaches_adapters_only_through_its_ports(path: Path) -> None:
    adapters = {name for name in imported(path) if name.startswith("loyalty.adapters")}
    allowed = FLOW_MAY_IMPORT.get(path.stem, set())
    assert adapters <= allowed, f"{path.name} imports {sorted(adapters - allowed)}"


@pytest.mark.parametrize("path", sorted((PACKAGE / "domain").glob("*.py")), ids=lambda path: path.stem)
def test_the_domain_imports_no_adapter_no_flow_and_no_aws(path: Path) -> None:
    outside = {name for name in imported(path)
               if name.startswith(("loyalty.adapters", "loyalty.flows", "boto", "aws_lambda_powertools", "telegram"))}
    assert not outside, f"{path.name} imports {sorted(outside)}"
