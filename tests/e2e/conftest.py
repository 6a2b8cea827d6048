import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser
from pytest import FixtureRequest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(autouse=True)
def fresh_stack(request: FixtureRequest) -> None:
    """Each test on an emptied stack, whatever ran before it in its module: the tests pass in any order."""
    if "stack" in request.fixturenames:
        request.getfixturevalue("stack").reset()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium, driven by Playwright: one per module of page tests."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield browser
        browser.close()
