import pytest
from pytest import FixtureRequest


@pytest.fixture(autouse=True)
def fresh_stack(request: FixtureRequest) -> None:
    """Each test on an emptied stack, whatever ran before it in its module: the tests pass in any order."""
    if "stack" in request.fixturenames:
        request.getfixturevalue("stack").reset()
