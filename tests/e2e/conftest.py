"""Browser tests: Playwright's sync API driving Debian's ``chromium`` against ``live_server``.

One browser is launched for the whole run of tests/e2e; each test gets its own context (its
own cookies), so signing in as one person never leaks into the next test. Tests need
``@pytest.mark.django_db(transaction=True)``: the live server answers from another thread,
which must see the rows a test creates.

Without chromium the tests are skipped on a developer's machine and fail in CI (``CI`` set),
so a CI run can never pass without having driven a browser.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    sync_playwright,
)

from kapflow.accounts.models import Membership
from tests.conftest import PASSWORD

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
MISSING = "chromium not installed: apt-get install chromium"
TIMEOUT_MS = 10_000


@pytest.fixture(scope="package")
def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{MISSING} (browser tests are required in CI)", pytrace=False)
        pytest.skip(MISSING)
    return path


@pytest.fixture(scope="package")
def playwright(chromium_path: str) -> Iterator[Playwright]:
    # Playwright's sync API keeps an asyncio loop running in this thread; Django's ORM would
    # take every query of the test body for one made inside async code and refuse it.
    # The variable is set only while the browser tests run (package scope), so it does not
    # leak into the rest of the suite, nor into the `kapflow manage check --deploy`
    # subprocesses of other tests (where async.E001 refuses it).
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as p:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield p


@pytest.fixture(scope="package")
def browser(playwright: Playwright, chromium_path: str) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def new_page(browser: Browser, live_server) -> Iterator[Callable[[], Page]]:
    """``new_page()`` opens a page in a fresh browser context: a second person at another desk.

    Errors in the browser console (a script that failed, a style or script that the
    Content-Security-Policy refused) fail the test: the page would not look or work as meant.
    """
    contexts: list[BrowserContext] = []
    console_errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # Error pages (403, 404) are expected in these tests; the browser reports each of
        # them as a failed resource load, which is not a fault of the page.
        if message.type == "error" and "Failed to load resource" not in message.text:
            console_errors.append(f"{message.location.get('url', '')}: {message.text}")

    def open_page() -> Page:
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": 1280, "height": 900}, locale="en-US"
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("console", on_console)
        page.on("pageerror", lambda error: console_errors.append(f"uncaught: {error}"))
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not console_errors, "the browser console reported errors:\n" + "\n".join(console_errors)


@pytest.fixture
def page(new_page: Callable[[], Page]) -> Page:
    return new_page()


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: $KAPFLOW_E2E_SCREENSHOTS if set, else a temporary directory."""
    chosen = os.environ.get("KAPFLOW_E2E_SCREENSHOTS")
    if chosen:
        path = Path(chosen)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def screenshot(screenshot_dir: Path) -> Callable[[Page, str], Path]:
    def take(page: Page, name: str) -> Path:
        path = screenshot_dir / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def sign_in(page: Page, member: Membership) -> None:
    """Sign in through the real login form and wait for the clinic's home page."""
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(member.user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(rf"/c/{member.clinic.slug}/$"))
