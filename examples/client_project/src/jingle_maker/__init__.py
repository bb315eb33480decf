"""jingle-maker: turn any song into a jingle of the length you need, with the Audjust API."""

from jingle_maker.client import AudjustClient, RetryPolicy
from jingle_maker.errors import (
    AudjustError,
    BadRequest,
    ExportFailed,
    InvalidApiKey,
    InvalidParameter,
    InvalidRequestMethod,
    JobFailed,
    MissingApiKey,
    MissingParameter,
    RateLimited,
    ResultNotFound,
    ResultTimeout,
    TransientError,
    UsageLimitExceeded,
)
from jingle_maker.jingle import chorus_segments, make_jingle, most_alike, pick_best
from jingle_maker.models import Ack, AnalysisResult, Candidate, ExportAck, Section, Similarity
from jingle_maker.webhooks import Delivery, JobRecord, JobStore, handle_webhook

__all__ = [
    "Ack",
    "AnalysisResult",
    "AudjustClient",
    "AudjustError",
    "BadRequest",
    "Candidate",
    "Delivery",
    "ExportAck",
    "ExportFailed",
    "InvalidApiKey",
    "InvalidParameter",
    "InvalidRequestMethod",
    "JobFailed",
    "JobRecord",
    "JobStore",
    "MissingApiKey",
    "MissingParameter",
    "RateLimited",
    "ResultNotFound",
    "ResultTimeout",
    "RetryPolicy",
    "Section",
    "Similarity",
    "TransientError",
    "UsageLimitExceeded",
    "chorus_segments",
    "handle_webhook",
    "make_jingle",
    "most_alike",
    "pick_best",
]
