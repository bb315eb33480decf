"""A structure job in the dashboard, in headless Chromium: its sections drawn over the song's
waveform as bands coloured by label on one continuous scale, each with its number, and listed
in a table; the upload's PUT in the live list beside the calls. Run by `make ui-test`."""

from __future__ import annotations

import itertools
import json
import urllib.request
from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as seen

from mock_server.audio.synth import SongSpec, song_bytes
from mock_server.testing.inprocess import AudjustMock
from ui_tests.conftest import Page, post
from ui_tests.pixels import rgb

# Six sections of four bars at 120 BPM (8 s each): the verse and chorus come back, the bridge
# does not, so the labels repeat and differ.
FORM = SongSpec(
    tempo_bpm=120,
    duration_seconds=48,
    seed=7,
    form=("verse", "chorus", "verse", "chorus", "bridge", "chorus"),
    bars_per_section=4,
)
Colour = tuple[int, int, int]


def uploaded(mock: AudjustMock, data: bytes) -> str:
    """The retrievalUrl of `data`, by the upload protocol: GET /upload, then a PUT."""
    slot_request = urllib.request.Request(
        f"{mock.base_url}/upload", headers={"X-API-Key": mock.api_key}
    )
    with urllib.request.urlopen(slot_request, timeout=60) as answer:
        slot = json.loads(answer.read())
    put = urllib.request.Request(slot["storageUrl"], data=data, method="PUT")
    with urllib.request.urlopen(put, timeout=60) as stored:
        assert stored.status == 200
    return str(slot["retrievalUrl"])


def distance(a: Colour, b: Colour) -> float:
    return float(sum((x - y) ** 2 for x, y in zip(a, b, strict=True)) ** 0.5)


def label_colour(page: Page, label: int) -> Colour:
    """The page's own colour for a label (app.js's labelColour)."""
    red, green, blue = page.driver.execute_script(f"return labelColour({label})")
    return int(red), int(green), int(blue)


def shown_bands(page: Page) -> list[dict[str, Any]]:
    """Each band's label (its text), place in the drawing and colour (its number's strip)."""
    found: list[dict[str, Any]] = page.driver.execute_script(
        "const box = document.querySelector('.structure-drawing').getBoundingClientRect();"
        "return [...document.querySelectorAll('#structure-bands .band')].map((band) => {"
        "  const at = band.getBoundingClientRect();"
        "  const strip = band.querySelector('.band-label');"
        "  return {text: strip.textContent, label: Number(band.dataset.label),"
        "          left: at.left - box.left, right: at.right - box.left,"
        "          strip: strip.getBoundingClientRect().height,"
        "          colour: getComputedStyle(strip).backgroundColor};"
        "});"
    )
    return found


def test_a_structure_job_draws_its_sections_coloured_and_numbered_by_label(page: Page) -> None:
    page.open()
    source = uploaded(page.mock, song_bytes(FORM, "wav"))
    status, answer = post(page.mock, "/structure", {"sourceFileUrl": source})
    assert status == 200, answer
    sections = answer["sections"]
    labels = [section["label"] for section in sections]
    pairs = [(a, b) for i, a in enumerate(labels) for b in labels[i + 1 :]]
    # The engine's sections of this song must give both kinds of pair the drawing is held to.
    assert any(a == b for a, b in pairs) and any(abs(a - b) >= 500 for a, b in pairs), labels

    page.row(answer["requestId"]).click()
    page.shown("structure-view")
    page.wait().until(lambda _: len(shown_bands(page)) == len(sections))
    page.screenshot("structure", "result")
    bands = shown_bands(page)
    assert [(b["text"], b["label"]) for b in bands] == [(str(x), x) for x in labels]
    assert all(
        b["colour"] == "rgb({}, {}, {})".format(*label_colour(page, x))
        for b, x in zip(bands, labels, strict=True)
    ), bands

    drawing = page.driver.find_element(By.CSS_SELECTOR, ".structure-drawing")
    pixels = rgb(drawing.screenshot_as_png)
    width = pixels.shape[1]
    end = sections[-1]["endMs"]
    drawn: list[Colour] = []
    for band, section in zip(bands, sections, strict=True):
        assert abs(band["left"] - section["startMs"] / end * width) <= 1.5, (band, section)
        assert abs(band["right"] - section["endMs"] / end * width) <= 1.5, (band, section)
        x = int(band["left"]) + 4  # the number is centred: the strip's own colour at its edge
        red, green, blue = (int(v) for v in pixels[int(band["strip"]) // 2, x])
        drawn.append((red, green, blue))
        assert distance(drawn[-1], label_colour(page, section["label"])) <= 3, (x, drawn[-1])
    for i, a in enumerate(labels):
        for j in range(i + 1, len(labels)):
            gap = distance(drawn[i], drawn[j])
            if a == labels[j]:
                assert gap <= 3, (a, drawn[i], drawn[j])
            elif abs(a - labels[j]) >= 500:
                assert gap >= 100, (a, labels[j], drawn[i], drawn[j])

    rows = page.driver.find_elements(By.CSS_SELECTOR, "#structure-table tbody tr")
    assert [row.text.split() for row in rows] == [
        [
            str(n),
            f"{s['startMs'] / 1000:.2f}",
            "s",
            f"{s['endMs'] / 1000:.2f}",
            "s",
            str(s["label"]),
        ]
        for n, s in enumerate(sections, start=1)
    ]
    assert "Closer labels mean more similar sections" in page.shown("structure-legend").text
    assert any(
        "PUT /storage/" in b.text
        for b in page.driver.find_elements(By.CSS_SELECTOR, "#requests button")
    )
    job = (By.CSS_SELECTOR, f'#job-list li[data-request-id="{answer["requestId"]}"]')
    page.wait().until(seen.text_to_be_present_in_element(job, "/structure"))
    assert "answered on its connection" in page.driver.find_element(*job).text
    assert page.console_errors() == []


def test_the_label_colours_are_one_continuous_scale(page: Page) -> None:
    """Near labels get near colours all along the scale, and its ends are far apart."""
    page.open()
    scale = [label_colour(page, label) for label in range(0, 1001, 10)]
    steps = [distance(a, b) for a, b in itertools.pairwise(scale)]
    assert max(steps) <= 15, max(steps)
    assert distance(scale[0], scale[-1]) >= 200
    assert len(set(scale)) == len(scale)  # no two labels a step apart share a colour


def test_a_queued_structure_job_is_listed_and_drawn_once_delivered(page: Page) -> None:
    page.open()
    source = uploaded(page.mock, song_bytes(FORM, "wav"))
    body = {"sourceFileUrl": source, "resultWebhook": page.mock.webhook_url()}
    status, ack = post(page.mock, "/structure", body)
    assert status == 200, ack
    payload = page.mock.wait_for_webhook(ack["requestId"], timeout=120)
    job = (By.CSS_SELECTOR, f'#job-list li[data-request-id="{ack["requestId"]}"]')
    page.wait().until(seen.text_to_be_present_in_element(job, "delivered"))
    assert page.driver.find_element(*job).text.startswith("/structure · ")
    page.row(ack["requestId"]).click()
    page.shown("structure-view")
    page.wait().until(lambda _: len(shown_bands(page)) == len(payload["sections"]))
    assert [b["label"] for b in shown_bands(page)] == [s["label"] for s in payload["sections"]]
    assert page.console_errors() == []
