"""export: result URLs known at once and repeated in the webhook, files that decode to the
groups' length in the format asked for, and failures that name only what failed."""

from __future__ import annotations

import io

import pytest
import soundfile

from contract_tests.paid import Export
from contract_tests.session import Contract
from mock_server.audio.mp3_frames import frames
from mock_server.contract import rules
from mock_server.contract.schemas import validate

# MP3 adds encoder delay and padding (under two frames at 44.1 kHz); WAV adds nothing.
DURATION_TOLERANCE = {"mp3_128": 0.1, "wav": 0.02}
CONTENT_TYPES = {"mp3_128": ("audio/mpeg", "audio/mp3"), "wav": ("audio/wav", "audio/x-wav")}


@pytest.fixture(params=["mp3_128", "wav"])
def export(request: pytest.FixtureRequest) -> Export:
    done: Export = request.getfixturevalue(f"export_{request.param.split('_')[0]}")
    return done


def test_export_ack_lists_one_result_url_per_group(export: Export, contract: Contract) -> None:
    ack = export.outcome.ack
    validate("export-queued-response", ack)
    groups = export.request["segmentsGroups"]
    extension = "wav" if export.request["exportFormat"] == "wav" else "mp3"
    names = [f"export_{number}.{extension}" for number in range(1, len(groups) + 1)]
    rules.check_ack_literals(ack, contract.target.base_url, names)


def test_export_webhook_matches_schema_and_repeats_the_result_urls(export: Export) -> None:
    webhook = export.outcome.require_webhook()
    validate("export-webhook", webhook)
    assert webhook["resultUrls"] == export.outcome.ack["resultUrls"]
    assert webhook["sourceFileUrl"] == export.request["sourceFileUrl"]


def test_failures_name_only_files_that_failed(contract: Contract, export: Export) -> None:
    failures = export.outcome.require_webhook()["failures"]
    urls = export.outcome.ack["resultUrls"]
    assert set(failures) <= set(urls), f"failures names unknown URLs: {sorted(failures)}"
    for url in urls:
        status = export.file(contract, url).status
        assert (status == 200) == (url not in failures), f"{url}: HTTP {status}"


def test_each_file_decodes_to_the_length_of_its_group(contract: Contract, export: Export) -> None:
    tolerance = DURATION_TOLERANCE[export.request["exportFormat"]]
    urls, groups = export.outcome.ack["resultUrls"], export.request["segmentsGroups"]
    for url, group in zip(urls, groups, strict=True):
        answer = export.file(contract, url)
        assert answer.status == 200, f"{url}: HTTP {answer.status}"
        seconds = soundfile.info(io.BytesIO(answer.body)).duration
        expected = sum(end - start for start, end in group)
        assert abs(seconds - expected) <= tolerance, (
            f"{url} lasts {seconds:.3f} s; its segments add up to {expected:.3f} s"
        )


def test_each_file_has_the_format_asked_for(contract: Contract, export: Export) -> None:
    export_format = export.request["exportFormat"]
    for url in export.outcome.ack["resultUrls"]:
        answer = export.file(contract, url)
        assert answer.content_type in CONTENT_TYPES[export_format], answer.content_type
        if export_format == "wav":
            assert soundfile.info(io.BytesIO(answer.body)).format == "WAV"
        else:
            bitrates = {frame.bitrate_kbps for frame in frames(answer.body)}
            assert bitrates == {int(export_format.split("_")[1])}, f"bitrates {bitrates}"


def test_export_credit_cost_follows_a_pricing_rule(contract: Contract, export: Export) -> None:
    webhook = export.outcome.require_webhook()
    groups = export.request["segmentsGroups"]
    minutes = sum(end - start for group in groups for start, end in group) / 60
    matched = rules.matching_rules(webhook["creditCost"], minutes, rules.RATES["export"])
    contract.report.note_pricing("export", matched)
