"""export: result URLs known at once and repeated in the webhook, files that decode to the
groups' length in the format asked for, and failures that name only what failed."""

from __future__ import annotations

import io

import pytest
import soundfile

from contract_tests.paid import Export, check_ack
from contract_tests.session import Contract
from mock_server.audio.mp3_frames import frames
from mock_server.contract import rules

# The mock's own lengths (export.length, a choice): MP3 adds encoder delay and padding (under two
# frames at 44.1 kHz); WAV adds nothing.
DURATION_TOLERANCE = {"mp3_128": 0.1, "wav": 0.02}
# What the reference promises (export.files: the segments stitched together): the length the
# reference's own example allows durationSeconds (34 for 33.65 s, so half a second), the MP3
# encoder's padding, and a crossfade's worth at each join.
STITCHED_TOLERANCE = 0.5
JOIN_ALLOWANCE = 0.25
CONTENT_TYPES = {"mp3_128": ("audio/mpeg", "audio/mp3"), "wav": ("audio/wav", "audio/x-wav")}


@pytest.fixture(params=["mp3_128", "wav"])
def export(request: pytest.FixtureRequest) -> Export:
    done: Export = request.getfixturevalue(f"export_{request.param.split('_')[0]}")
    return done


def file_urls(export: Export) -> list[str]:
    """The URLs to download: the webhook's when one came (expiring URLs may be signed anew in
    it), else the acknowledgement's."""
    webhook = export.outcome.webhook
    urls: list[str] = (webhook or export.outcome.ack)["resultUrls"]
    return urls


def test_export_ack_lists_one_result_url_per_group(export: Export, contract: Contract) -> None:
    groups = export.request["segmentsGroups"]
    extension = "wav" if export.request["exportFormat"] == "wav" else "mp3"
    names = [f"export_{number}.{extension}" for number in range(1, len(groups) + 1)]
    check_ack(contract, export.outcome.ack, names, "export-queued-response")


def test_export_webhook_matches_schema_and_repeats_the_result_urls(
    export: Export, contract: Contract
) -> None:
    webhook = export.outcome.require_webhook()
    contract.conforms("export.payload", "export-webhook", webhook)
    with contract.promise("export.payload"):
        assert webhook["sourceFileUrl"] == export.request["sourceFileUrl"]
    with contract.promise("export.files"):
        groups = len(export.request["segmentsGroups"])
        assert len(webhook["resultUrls"]) == groups, f"{webhook['resultUrls']} for {groups} groups"
    hooked = [rules.without_query(url) for url in webhook["resultUrls"]]
    acked = [rules.without_query(url) for url in export.outcome.ack["resultUrls"]]
    contract.check("export.webhook_urls", hooked == acked, f"webhook {hooked}, ack {acked}")


def test_failures_name_only_files_that_failed(contract: Contract, export: Export) -> None:
    webhook = export.outcome.require_webhook()
    urls = file_urls(export)
    known = {rules.without_query(url) for url in urls}
    with contract.promise("export.failures"):
        assert isinstance(webhook.get("failures"), dict), "the webhook has no failures map"
        failures = {rules.without_query(url) for url in webhook["failures"]}
        assert failures <= known, f"failures names unknown URLs: {sorted(failures - known)}"
        for url in urls:
            status = export.file(contract, url).status
            failed = rules.without_query(url) in failures
            assert (status == 200) != failed, f"{url}: HTTP {status}"


def test_each_file_decodes_to_the_length_of_its_group(contract: Contract, export: Export) -> None:
    tolerance = DURATION_TOLERANCE[export.request["exportFormat"]]
    groups = export.request["segmentsGroups"]
    for url, group in zip(file_urls(export), groups, strict=True):
        answer = export.file(contract, url)
        expected = sum(end - start for start, end in group)
        with contract.promise("export.files"):
            assert answer.status == 200, f"{url}: HTTP {answer.status}"
            seconds = soundfile.info(io.BytesIO(answer.body)).duration
            stitched = STITCHED_TOLERANCE + JOIN_ALLOWANCE * (len(group) - 1)
            assert abs(seconds - expected) <= stitched, (
                f"{url} lasts {seconds:.3f} s; its segments add up to {expected:.3f} s"
            )
        contract.check(
            "export.length",
            abs(seconds - expected) <= tolerance,
            f"{url} lasts {seconds:.3f} s; its segments add up to {expected:.3f} s",
        )


def test_each_file_has_the_format_asked_for(contract: Contract, export: Export) -> None:
    export_format = export.request["exportFormat"]
    for url in file_urls(export):
        answer = export.file(contract, url)
        contract.check(
            "result.content_type",
            answer.content_type in CONTENT_TYPES[export_format],
            f"{url} is served as {answer.content_type}",
        )
        if export_format == "wav":
            with contract.promise("export.files"):
                assert soundfile.info(io.BytesIO(answer.body)).format == "WAV"
            continue
        bitrates = {frame.bitrate_kbps for frame in frames(answer.body)}
        contract.check("export.files", bool(bitrates), f"{url} has no MP3 frame")
        wanted = int(export_format.split("_")[1])
        contract.check("export.bitrate", bitrates == {wanted}, f"{url}: bitrates {bitrates}")


def test_export_credit_cost_follows_a_pricing_rule(contract: Contract, export: Export) -> None:
    webhook = export.outcome.require_webhook()
    groups = export.request["segmentsGroups"]
    minutes = sum(end - start for group in groups for start, end in group) / 60
    with contract.promise("credits.rates"):
        matched = rules.matching_rules(webhook["creditCost"], minutes, rules.RATES["export"])
        contract.report.note_pricing("export", matched)
