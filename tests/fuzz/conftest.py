"""Fuzzing (hypothesis) against the parts a stranger can reach: the webhook, the receipt normaliser and QR parser, the
program loader; the redemption API's is its contract test (tests/e2e/test_redemption_api_contract.py) and the corpus
here. Each target gets FUZZ_EXAMPLES inputs (a few dozen in `make test`; `make fuzz` gives thousands and writes how
many each got to bench/fuzz.json)."""

from tests.conftest import FUZZ_EXAMPLES as EXAMPLES  # noqa: F401 (what the fuzz modules read)
from tests.integration.conftest import aws_env, receipts_dir, stack  # noqa: F401 (the stack the webhook fuzz posts to)
