"""The dashboard in a real browser (headless Chromium): what it shows is checked against what the
mock did, the drawings by their pixels. Run by `make ui-test`, not by `make test`."""

from __future__ import annotations

from typing import Any

import numpy as np
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.ui import Select

from mock_server.accounts import mask_key
from mock_server.audio.similarity import EncodedSimilarity, decode_similarity
from mock_server.settings import Settings
from mock_server.testing.inprocess import AudjustMock, MockServer
from tests.support import TINY_RESIZE
from ui_tests.conftest import LAPTOP, PHONE, Page, post, section_starts
from ui_tests.pixels import rgb

RED = (255, 0, 0)
WAVE = (0x8A, 0x96, 0xA3)  # app.js draws the waveform in this grey


def analyzed(page: Page, song_url: str) -> tuple[str, dict[str, Any]]:
    """Analyze the repeating song; (request id, the webhook's `result`)."""
    status, ack = post(
        page.mock,
        "/analyze",
        {"resultWebhook": page.mock.webhook_url(), "sourceFileUrl": song_url},
    )
    assert status == 200, ack
    payload = page.mock.wait_for_webhook(ack["requestId"], timeout=120)
    assert payload["success"], payload
    return ack["requestId"], payload["result"]


def test_the_page_loads_on_a_laptop_and_a_phone_with_no_console_errors(page: Page) -> None:
    for name, size in (("laptop", LAPTOP), ("phone", PHONE)):
        page.open(size)
        page.wait().until(lambda driver: driver.find_element(By.ID, "scenario").text)
        page.screenshot(f"empty-{name}")
        assert page.console_errors() == []
        width = page.driver.execute_script("return document.documentElement.scrollWidth")
        assert width <= size[0], f"the page scrolls sideways at {size}"


def test_a_request_appears_in_the_live_list_within_a_second(page: Page) -> None:
    page.open()
    status, ack = post(page.mock, "/resize", TINY_RESIZE)
    assert status == 200
    page.row(ack["requestId"], seconds=1.0).click()
    answer = page.shown("detail-answer").text
    assert (
        ack["requestId"] in answer
        and '"targetLengthSeconds": 1' in page.shown("detail-request").text
    )
    page.screenshot("traffic")
    assert page.console_errors() == []


def test_an_analysis_shows_its_beats_and_lights_the_heat_map_where_the_song_repeats(
    page: Page, song_url: str
) -> None:
    page.open()
    request_id, result = analyzed(page, song_url)
    page.row(request_id).click()
    page.shown("analysis-view")
    page.wait().until(seen.text_to_be_present_in_element((By.ID, "analysis-facts"), "BPM"))
    page.screenshot("analysis", "result")

    grid = page.driver.find_element(By.ID, "beat-grid")
    pixels = rgb(grid.screenshot_as_png)
    width = pixels.shape[1]
    drawn = {x for x in range(width) if tuple(pixels[pixels.shape[0] // 2, x]) == RED}
    expected = {round(t / result["duration"] * (width - 1)) for t in result["boundaries"]}
    assert all(min(abs(x - e) for x in drawn) <= 1 for e in expected), (drawn, expected)
    assert all(min(abs(x - e) for e in expected) <= 1 for x in drawn), (drawn, expected)
    levels = page.mock.call(lambda services: services.jobs.jobs[request_id].peaks)
    for x in range(0, width, 37):  # the waveform's grey column: as tall as its level says
        if x in drawn or x - 1 in drawn or x + 1 in drawn:
            continue
        grey = int((pixels[:, x] == WAVE).all(axis=1).sum())
        level = levels[int(x / width * len(levels))]
        assert abs(grey - level / 255 * pixels.shape[0]) <= 1.5, (x, grey, level)

    heat = rgb(page.driver.find_element(By.ID, "heat-map").screenshot_as_png)[:, :, 0]
    matrix = decode_similarity(EncodedSimilarity(**result["similarity"]))
    size, beats = matrix.shape[0], result["boundaries"]

    def shade(row: int, col: int) -> int:  # the middle pixel of a cell
        side = heat.shape[0]
        return int(heat[int((row + 0.5) * side / size), int((col + 0.5) * side / size)])

    def beat_at(seconds: float) -> int:
        return int(np.argmin([abs(b - seconds) for b in beats]))

    verse, chorus, again = (start for _, start, _ in section_starts()[:3])
    offsets = np.arange(0.25, 3.75, 0.5)
    repeat = [shade(beat_at(verse + o), beat_at(again + o)) for o in offsets]
    unlike = [shade(beat_at(verse + o), beat_at(chorus + o)) for o in offsets]
    assert np.mean(repeat) > np.mean(unlike) + 40, (repeat, unlike)
    for row, col in ((0, size - 1), (size // 2, size // 3)):
        assert abs(shade(row, col) - round(matrix[row, col] * 255)) <= 2

    page.driver.execute_script(  # hovering names the pair and its value
        "const c = arguments[0], b = c.getBoundingClientRect();"
        "c.dispatchEvent(new MouseEvent('mousemove', {clientX: b.left + 1, clientY: b.top + 1}))",
        page.driver.find_element(By.ID, "heat-map"),
    )
    assert page.shown("heat-hover").text.startswith("beat 0 (")
    page.driver.find_element(By.ID, "heat-map").send_keys(Keys.ARROW_DOWN, Keys.ARROW_RIGHT)
    page.wait().until(seen.text_to_be_present_in_element((By.ID, "heat-hover"), "\u00d7 beat 1 ("))
    assert page.shown("heat-hover").text.startswith("beat 1 (")
    assert page.console_errors() == []


def test_resize_lanes_match_the_candidates_and_sort(page: Page, song_url: str) -> None:
    page.open()
    _, analysis = analyzed(page, song_url)
    body = {
        "targetLengthSeconds": 10,
        "similarity": analysis["similarity"],
        "boundaries": analysis["boundaries"],
    }
    status, answer = post(page.mock, "/resize", body)
    assert status == 200, answer
    candidates = answer["result"]
    page.row(answer["requestId"]).click()
    page.shown("resize-view")
    page.screenshot("resize", "result")

    def lanes() -> list[tuple[int, str]]:
        items = page.driver.find_elements(By.CSS_SELECTOR, "#lanes .candidate")
        return [(len(i.find_elements(By.CSS_SELECTOR, ".kept")), i.text) for i in items]

    by_score = sorted(candidates, key=lambda c: -c["blendedScore"])
    assert [n for n, _ in lanes()] == [len(c["segmentsSeconds"]) for c in by_score]
    assert all(
        f"{c['durationSeconds']} s" in text for c, (_, text) in zip(by_score, lanes(), strict=True)
    )
    Select(page.driver.find_element(By.ID, "lane-order")).select_by_value("dissimilarity")
    by_cut = sorted(candidates, key=lambda c: c["dissimilarity"])
    expected = [f"dissimilarity {c['dissimilarity']:.3f}" for c in by_cut]
    page.wait().until(lambda _: all(e in t for e, (_, t) in zip(expected, lanes(), strict=True)))
    assert page.console_errors() == []


def test_each_export_file_has_a_player_on_its_url(page: Page, song_url: str) -> None:
    page.open()
    groups = [[[0, 4], [8, 12]], [[4, 8]]]
    body = {
        "resultWebhook": page.mock.webhook_url(),
        "sourceFileUrl": song_url,
        "exportFormat": "wav",
        "segmentsGroups": groups,
    }
    status, ack = post(page.mock, "/export", body)
    assert status == 200, ack
    page.row(ack["requestId"]).click()
    page.shown("export-view")
    players = page.driver.find_elements(By.CSS_SELECTOR, "#players audio")
    assert [p.get_attribute("src") for p in players] == [*ack["resultUrls"], song_url]
    marks = page.driver.find_elements(By.CSS_SELECTOR, "#players .segment-marks")
    assert [len(m.find_elements(By.TAG_NAME, "span")) for m in marks] == [2, 1]
    page.screenshot("export", "result")
    assert page.console_errors() == []


def queue_job(page: Page, scenario: str) -> tuple[str, tuple[str, str]]:
    """A resize queued with a webhook under `scenario`: its request id, and its row in the
    jobs list (a locator)."""
    hooked = {**TINY_RESIZE, "resultWebhook": page.mock.webhook_url()}
    status, ack = post(page.mock, "/resize", hooked, scenario=scenario)
    assert status == 200, ack
    request_id = ack["requestId"]
    return request_id, (By.CSS_SELECTOR, f'#job-list li[data-request-id="{request_id}"]')


def test_a_dropped_webhook_is_sent_again_from_the_jobs_list(page: Page) -> None:
    page.open()
    request_id, item = queue_job(page, "webhook_dropped")
    resend = (By.CSS_SELECTOR, f"{item[1]} button")
    page.wait().until(seen.element_to_be_clickable(resend)).click()
    assert page.mock.wait_for_webhook(request_id)["success"] is True
    page.wait().until(seen.text_to_be_present_in_element(item, "delivered"))
    page.screenshot("jobs", "jobs")
    assert page.console_errors() == []


def test_the_clock_advanced_from_the_page_times_a_slow_job_out(page: Page) -> None:
    page.open()
    request_id, item = queue_job(page, "slow;seconds=600")
    page.wait().until(seen.presence_of_element_located(item))
    seconds = page.driver.find_element(By.ID, "seconds")
    seconds.clear()
    seconds.send_keys("420")
    page.driver.find_element(By.CSS_SELECTOR, "#clock-form button[type=submit]").click()
    page.wait().until(seen.text_to_be_present_in_element((By.ID, "armed"), "mock time is now"))
    assert page.mock.wait_for_webhook(request_id)["success"] is False
    page.wait().until(seen.text_to_be_present_in_element(item, "timed out"))
    assert page.console_errors() == []


def test_a_scenario_armed_from_the_page_fails_the_next_request(page: Page) -> None:
    page.open()
    page.wait().until(lambda driver: driver.find_element(By.ID, "scenario").text)
    Select(page.driver.find_element(By.ID, "scenario")).select_by_value("missing_key")
    page.driver.find_element(By.CSS_SELECTOR, "#arm-form button[type=submit]").click()
    page.wait().until(seen.text_to_be_present_in_element((By.ID, "armed"), "missing_key"))
    page.screenshot("controls", "controls")
    status, refusal = post(page.mock, "/resize", TINY_RESIZE)
    assert (status, refusal["success"]) == (401, False), refusal


def test_a_key_added_from_the_page_is_listed_with_its_usage_against_its_plan(
    page: Page,
) -> None:
    page.open()
    page.driver.find_element(By.ID, "new-key").send_keys("from-the-page")
    Select(page.driver.find_element(By.ID, "new-plan")).select_by_value("free")
    page.driver.find_element(By.CSS_SELECTOR, "#key-form button").click()
    listed = (By.CSS_SELECTOR, "#keys tbody")
    page.wait().until(seen.text_to_be_present_in_element(listed, "from****"))
    rows = page.driver.find_elements(By.CSS_SELECTOR, "#keys tbody tr")
    assert [r.text for r in rows if r.text.startswith("from")] == [
        f"{mask_key('from-the-page')} free 0 of 100"
    ]
    assert page.mock.call(lambda services: services.accounts.plan_of("from-the-page")) is not None
    page.screenshot("keys", "controls")


def test_with_an_admin_token_the_page_gets_nothing_until_given_it(page: Page) -> None:
    with MockServer(Settings(workers=1, admin_token="let-me-in")) as server:
        guarded = Page(page.driver, AudjustMock(server, "test-key"))
        guarded.driver.execute_script("sessionStorage.clear()")
        guarded.open(live=False)
        guarded.shown("token-form")
        status, ack = post(guarded.mock, "/resize", TINY_RESIZE)
        assert status == 200
        assert page.driver.find_elements(By.CSS_SELECTOR, "#requests li") == []
        guarded.screenshot("token")
        guarded.driver.find_element(By.ID, "token").send_keys("let-me-in")
        guarded.driver.find_element(By.CSS_SELECTOR, "#token-form button").click()
        guarded.row(ack["requestId"])
        guarded.driver.execute_script("sessionStorage.clear()")


def test_the_page_shows_the_namespace_its_address_names(page: Page) -> None:
    status, ours = post(page.mock, "/resize", TINY_RESIZE, namespace="suite-b")
    assert status == 200
    _, theirs = post(page.mock, "/resize", TINY_RESIZE)
    page.open(query="?namespace=suite-b")
    page.row(ours["requestId"])
    shown = page.driver.find_elements(By.CSS_SELECTOR, "#requests button")
    assert [b.get_attribute("data-request-id") for b in shown] == [ours["requestId"]]
    assert theirs["requestId"] != ours["requestId"]
