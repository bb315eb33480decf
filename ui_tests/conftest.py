"""The browser tests' fixtures: headless Chromium from Debian's packages driven by Selenium, a
mock on a thread, and a synthetic song with known repeats served over HTTP."""

from __future__ import annotations

import json
import os
import shutil
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver import Chrome as WebDriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.wait import WebDriverWait

from mock_server.audio.synth import SongSpec, render_song, song_bytes
from mock_server.settings import Settings
from mock_server.testing.inprocess import AudjustMock, MockServer

ROOT = Path(__file__).resolve().parents[1]
# Where each view's screenshot goes (docs/dashboard.md shows copies of them).
SCREENSHOTS = Path(os.environ.get("UI_SCREENSHOTS", ROOT / "build" / "ui-screenshots"))
# Four sections of two bars at 120 BPM: 4 s each, the verse (0-4 s) repeated at 8-12 s.
REPEATS = SongSpec(
    tempo_bpm=120,
    duration_seconds=16,
    seed=7,
    form=("verse", "chorus", "verse", "chorus"),
    bars_per_section=2,
)
LAPTOP, PHONE = (1280, 800), (390, 844)
WAIT_SECONDS = 30.0  # for work the mock does (an analysis); the live list has its own second


def chromium() -> tuple[str, str]:
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if browser is None or driver is None:
        pytest.exit("no chromium/chromedriver: `make ui-test` installs them", returncode=1)
    return browser, driver


@pytest.fixture(scope="session")
def browser() -> Iterator[WebDriver]:
    binary, driver_path = chromium()
    options = Options()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--force-device-scale-factor=1"):
        options.add_argument(flag)
    options.add_argument(f"--window-size={LAPTOP[0]},{LAPTOP[1]}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="session")
def song_url() -> Iterator[str]:
    """The repeating song as WAV, on a little file server of its own."""
    data = song_bytes(REPEATS, "wav")

    class Song(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "audio/wav")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Song)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/song.wav"
    finally:
        server.shutdown()
        server.server_close()


def section_starts() -> list[tuple[str, float, float]]:
    return [(s.label, s.start, s.end) for s in render_song(REPEATS).truth.sections]


@pytest.fixture
def mock() -> Iterator[AudjustMock]:
    with MockServer(Settings(workers=1)) as server:
        yield AudjustMock(server, "test-key")


class Page:
    """The dashboard open in the browser, with the waits the tests share."""

    def __init__(self, driver: WebDriver, mock: AudjustMock) -> None:
        self.driver, self.mock = driver, mock

    def open(self, size: tuple[int, int] = LAPTOP, *, live: bool = True, query: str = "") -> Page:
        self.driver.set_window_size(*size)
        self.driver.get(f"{self.mock.base_url}/_mock/ui{query}")
        _console(self.driver)  # start each page with an empty console
        if live:
            self.wait(WAIT_SECONDS).until(
                seen.text_to_be_present_in_element((By.ID, "feed-state"), "live")
            )
        return self

    def wait(self, seconds: float = WAIT_SECONDS) -> WebDriverWait[WebDriver]:
        return WebDriverWait(self.driver, seconds)

    def row(self, request_id: str, seconds: float = WAIT_SECONDS) -> Any:
        """The live list's row of `request_id`, once it is there."""
        found = (By.CSS_SELECTOR, f'#requests button[data-request-id="{request_id}"]')
        return self.wait(seconds).until(seen.element_to_be_clickable(found))

    def shown(self, element_id: str) -> Any:
        return self.wait().until(seen.visibility_of_element_located((By.ID, element_id)))

    def screenshot(self, name: str, element_id: str | None = None) -> None:
        """The window, or one section of the page, as SCREENSHOTS/name.png."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = str(SCREENSHOTS / f"{name}.png")
        if element_id is None:
            self.driver.save_screenshot(path)
        else:
            section = self.driver.find_element(By.ID, element_id)
            self.driver.execute_script("arguments[0].scrollIntoView()", section)
            section.screenshot(path)

    def console_errors(self) -> list[dict[str, Any]]:
        return [e for e in _console(self.driver) if e["level"] == "SEVERE"]


def _console(driver: WebDriver) -> list[dict[str, Any]]:
    """What the page logged since the last call (Selenium leaves `get_log` untyped)."""
    logged: list[dict[str, Any]] = driver.get_log("browser")  # type: ignore[no-untyped-call]
    return logged


@pytest.fixture
def page(browser: WebDriver, mock: AudjustMock) -> Page:
    return Page(browser, mock)


def post(
    mock: AudjustMock,
    path: str,
    body: dict[str, Any],
    namespace: str | None = None,
    scenario: str | None = None,
) -> tuple[int, dict[str, Any]]:
    """POST to the mock's API with its key (in `namespace`, with `scenario`, if given):
    (status, JSON)."""
    headers = {"X-API-Key": mock.api_key, "Content-Type": "application/json"}
    if namespace is not None:
        headers["X-Mock-Namespace"] = namespace
    if scenario is not None:
        headers["X-Mock-Scenario"] = scenario
    request = urllib.request.Request(
        f"{mock.base_url}{path}", data=json.dumps(body).encode(), headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as refusal:
        return refusal.code, json.loads(refusal.read())
