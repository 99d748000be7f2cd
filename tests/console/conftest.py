"""A real ``statewright serve`` for the console tests, real Chromium to drive it, and helpers.

The browser is Debian's ``/usr/bin/chromium`` (``.ci/run`` installs it), driven by Playwright's
Python API; Playwright's own browser downloads are never used. Every page records the
requests it makes, and each test ends by checking that none left the server.

Screenshots go to ``$STATEWRIGHT_SCREENSHOTS`` when set (``docs/images`` to refresh the
documentation's), else to a temporary folder.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import EXAMPLE, SLEEP_HANDLER, Server, start_server, stop_and_check

CHROMIUM = Path("/usr/bin/chromium")
ORDER_DEFINITION = (EXAMPLE / "definition.json").read_text()

#: A checkInventory that always answers "out of stock", so an order fails for certain.
NO_STOCK_HANDLER = '''
def handler(event, context):
    print("Checking inventory for order:", event.get("orderId"))
    return {"orderId": event.get("orderId"), "inStock": False}
'''

#: A function that always fails with ``BoomError``.
BOOM_HANDLER = '''
class BoomError(Exception):
    pass


def handler(event, context):
    print("about to fail")
    raise BoomError("it went boom")
'''


@pytest.fixture(scope="session")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("console-server")
    functions = folder / "functions"
    shutil.copytree(EXAMPLE / "functions", functions)
    (functions / "sleep.py").write_text(SLEEP_HANDLER)
    (functions / "noStock.py").write_text(NO_STOCK_HANDLER)
    (functions / "boom.py").write_text(BOOM_HANDLER)
    process, running = start_server(folder, functions)
    try:
        yield running
    finally:
        stop_and_check(process, running)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


def call(server: Server, path: str, method: str = "GET", body: Any = None,
         params: dict[str, str] | None = None) -> Answer:
    """One request to the console's API (or any path); JSON bodies decoded."""
    url = server.url + path + ("?" + urllib.parse.urlencode(params) if params else "")
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            status, headers = response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        raw = error.read()
        status, headers = error.code, dict(error.headers)
    kind = headers.get("content-type", "")
    return Answer(status, headers, json.loads(raw) if "json" in kind else raw.decode())


def order_machine(server: Server, name: str, check_function: str = "checkInventory") -> str:
    """The order workflow (its Task calling ``check_function`` first); returns its ARN."""
    definition = ORDER_DEFINITION.replace("function:checkInventory",
                                          f"function:{check_function}")
    answer = call(server, "/console/api/state-machine", "POST",
                  {"name": name, "definition": definition})
    assert answer.status == 200, answer.body
    arn: str = answer.body["arn"]
    return arn


@dataclass
class Requests:
    """The URLs a page asked for."""

    urls: list[str] = field(default_factory=list)

    def outside(self, server: Server) -> list[str]:
        return [u for u in self.urls
                if not (u.startswith(server.url + "/") or u.startswith("data:"))]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium (apt-get install chromium; .ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Page:
    """A browser tab on the console, with what it requested and what went wrong in it."""

    page: Any
    server: Server
    requests: Requests
    errors: list[str]

    def open(self, hash_path: str = "") -> None:
        self.page.goto(f"{self.server.url}/console/#/{hash_path}")


@pytest.fixture
def console(browser: Any, console_server: Server) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(20_000)
    requests = Requests()
    errors: list[str] = []
    page.on("request", lambda request: requests.urls.append(request.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    # Chromium logs every 4xx answer as an error; the tests provoke some on purpose.
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and "Failed to load resource" not in message.text
            else None)
    try:
        yield Page(page, console_server, requests, errors)
    finally:
        context.close()
    assert requests.urls, "the page made no request at all"
    assert requests.outside(console_server) == [], "the page reached outside the server"
    assert errors == [], errors


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    configured = os.environ.get("STATEWRIGHT_SCREENSHOTS")
    folder = Path(configured) if configured else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
