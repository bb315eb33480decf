"""The `serve` flag table and its fallbacks: each flag, the AUDJUST_MOCK_* variable beside it,
and how both turn into `Settings`. Defaults are never stated here but read from Settings, so they
live in one place; `server.py` only serves what this builds."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from mock_server.accounts import Plan, PricingRule
from mock_server.contract.profile import Profile, ProfileError
from mock_server.faults.arming import Arming
from mock_server.faults.scenario import Scenario, ScenarioError
from mock_server.settings import DEFAULT_KEY, LogFormat, Settings
from mock_server.sources import SourceMode

ENV_PREFIX = "AUDJUST_MOCK_"


def _key(value: str) -> tuple[str, Plan]:
    key, _, plan = value.partition(":")
    try:
        return key, Plan.named(plan or Plan.ENTERPRISE.value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def _scenario(value: str) -> Arming:
    try:
        return Arming(Scenario.parse(value), count=None)
    except ScenarioError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def _scenario_file(value: str) -> tuple[Arming, ...]:
    """A JSON list of scenarios, each `"NAME;param=value"` or `{"name", "params", "route",
    "key", "count"}`; without a count, a scenario applies to every matching request."""
    try:
        document = json.loads(Path(value).read_text())
        if not isinstance(document, list):
            raise ScenarioError("the file must hold a JSON list of scenarios")
        return tuple(Arming.from_json(item, default_count=None) for item in document)
    except (OSError, ValueError) as error:
        raise argparse.ArgumentTypeError(f"{value}: {error}") from error


@dataclass(frozen=True)
class Flag:
    """One `serve` flag: the Settings field it sets, how its text converts, and its help. Its
    default is never stated here: a flag not given (and its variable not set) leaves the field at
    Settings' own default, so the defaults live in one place."""

    name: str
    field: str
    help: str
    convert: Callable[[str], Any] = str
    choices: tuple[str, ...] | None = None
    metavar: str | None = None
    switch: bool = False  # given means true; its variable is true for 1, true or yes
    default_text: str | None = None  # how help shows a default Settings cannot spell
    variable_name: str | None = None  # when it is not the flag's name (a repeatable's plural)
    profile_key: str | None = None  # sets this key of the profile instead of a Settings field

    @property
    def variable(self) -> str:
        name = self.variable_name or self.name.removeprefix("--")
        return ENV_PREFIX + name.upper().replace("-", "_")


def _profile_file(value: str) -> Profile:
    try:
        return Profile.load(Path(value))
    except ProfileError as error:
        raise argparse.ArgumentTypeError(f"{value}: {error}") from error


def _plan_keys(value: str) -> tuple[tuple[str, Plan], ...]:
    return tuple(_key(item) for item in value.split(",") if item)


def _scenarios(value: str) -> tuple[Arming, ...]:
    return tuple(_scenario(item) for item in value.split(",") if item.strip())


FLAGS = (
    Flag("--host", "host", "address to listen on; beyond loopback, see --admin-token"),
    Flag("--port", "port", "port of the API origin (0: any free port)", int),
    Flag(
        "--results-port",
        "results_port",
        "port of the results origin, served beside the API because the reference's result "
        "URLs are on a host of their own",
        int,
        default_text="the API's port + 1; any free port if --port is 0",
    ),
    Flag(
        "--results-url",
        "results_url",
        "public base written into result URLs, behind a proxy or in a container",
        default_text="the host the client addressed, on the results port",
    ),
    Flag(
        "--public-url",
        "public_url",
        "public base of the API origin, when clients reach it through a proxy or a published "
        "port; result URLs use its host unless --results-url is given",
        default_text="the address the client used",
    ),
    Flag(
        "--data-dir",
        "data_dir",
        "where results and the job ledger live; reused across restarts",
        Path,
        default_text="a temporary folder removed at exit",
    ),
    Flag("--seed", "seed", "seed for request ids (reproducible runs)", int, default_text="random"),
    Flag("--workers", "workers", "processes for analysis, resize and export", int),
    Flag(
        "--time-scale",
        "time_scale",
        "make simulated waits (retry backoff, slow jobs, delayed webhooks) this many times shorter",
        float,
    ),
    Flag("--allow-file-urls", "allow_file_urls", "accept file:// source URLs", switch=True),
    Flag(
        "--public-sources-only",
        "public_sources_only",
        "refuse source downloads from private, loopback and link-local addresses",
        switch=True,
    ),
    Flag(
        "--admin-token",
        "admin_token",
        "require this token (header X-Admin-Token) on the /_mock/* control routes; without "
        "it they are served only on a loopback address",
        default_text="none",
    ),
    Flag(
        "--rate-limit",
        "rate_limit",
        "requests per minute per key (the reference: currently 100 a minute; that each key is "
        "counted apart and the minute rolls are the mock's choices)",
        int,
    ),
    Flag(
        "--sources",
        "sources",
        "fetch; synthesize (a song seeded by the URL, no network); auto: fetch, synthesize "
        "when the host does not resolve; local: fetch from loopback only",
        SourceMode,
        choices=tuple(mode.value for mode in SourceMode),
    ),
    Flag("--quiet", "quiet", "print no traffic lines, only the start-up lines", switch=True),
    Flag(
        "--log-format",
        "log_format",
        "traffic lines on stderr as text, or as JSON lines (fields: event, then the control "
        "API's names for a journal entry or a delivery attempt)",
        LogFormat,
        choices=tuple(fmt.value for fmt in LogFormat),
    ),
    Flag(
        "--profile",
        "profile",
        "a JSON profile (schemas/profile.json) setting the behaviours the reference leaves "
        "open: error statuses, pricing rule, webhook attempts and more; a flag given as well "
        "wins over it",
        _profile_file,
        metavar="FILE",
        default_text="the mock's own choices, listed at /_mock/fidelity",
    ),
    Flag(
        "--pricing",
        "pricing",
        "examples: max(1, round(minutes x rate)) as in the reference's examples; documented: "
        "durations rounded up, as its prose says (profile key pricing)",
        PricingRule,
        choices=tuple(rule.value for rule in PricingRule),
        profile_key="pricing",
    ),
    Flag(
        "--replay",
        "replay",
        "a folder of recordings (audjust-mock proxy --record): a request matching one gets the "
        "recorded result (or failure) under new ids; others go to the engine",
        Path,
        metavar="DIR",
        default_text="none",
    ),
    Flag(
        "--namespace-idle-seconds",
        "namespace_idle_seconds",
        "wall-clock seconds after which a named namespace nobody uses expires, with its jobs, "
        "results, keys and usage (0: never; the default namespace never expires)",
        float,
    ),
    Flag(
        "--upload-store-bytes",
        "upload_store_bytes",
        "bytes all uploads (GET /upload, then a PUT to its storageUrl) may hold together in "
        "memory; a PUT past it is refused, nothing is evicted",
        int,
    ),
    Flag(
        "--replay-strict",
        "replay_strict",
        "with --replay, refuse a request no recording matches, naming the closest",
        switch=True,
    ),
)
# Repeatable: given any number of times, or once as the variable, comma-separated.
API_KEYS = Flag(
    "--api-key",
    "api_keys",
    "accept this key (plan: free, starter, plus, mega, enterprise; default enterprise); repeatable",
    _plan_keys,
    metavar="KEY[:PLAN]",
    default_text=f"{DEFAULT_KEY}, the mock's own",
    variable_name="api-keys",
)
SCENARIOS = Flag(
    "--scenario",
    "scenarios",
    "a fault scenario for every request it applies to (GET /_mock/scenarios lists them); "
    "repeatable",
    _scenarios,
    metavar="NAME[;param=value]",
    default_text="none",
    variable_name="scenarios",
)
SCENARIO_FILE = Flag(
    "--scenario-file",
    "scenarios",
    "a JSON list of scenarios, each a NAME;param=value string or an object with name, params, "
    "route, key and count",
    _scenario_file,
    metavar="FILE",
    default_text="none",
)


def _shown(value: object) -> str:
    return str(value.value if isinstance(value, Enum) else value)


def _help(flag: Flag) -> str:
    if flag.profile_key:
        default = _shown(Settings().profile.value_at(flag.profile_key))
    else:
        default = flag.default_text or _shown(getattr(Settings(), flag.field))
    return f"{flag.help} (default: {default}; env {flag.variable})"


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Every flag, its help stating its default and its AUDJUST_MOCK_* variable."""
    for flag in FLAGS:
        if flag.switch:
            parser.add_argument(flag.name, dest=flag.field, action="store_true", help=_help(flag))
        else:
            parser.add_argument(
                flag.name,
                dest=flag.field,
                type=str if flag.choices else flag.convert,
                choices=flag.choices,
                metavar=flag.metavar,
                help=_help(flag),
            )
    for repeatable, dest in ((API_KEYS, "api_keys"), (SCENARIOS, "scenario_flags")):
        parser.add_argument(
            repeatable.name,
            dest=dest,
            action="extend",
            type=repeatable.convert,
            metavar=repeatable.metavar,
            help=_help(repeatable),
        )
    parser.add_argument(
        SCENARIO_FILE.name,
        dest="scenario_file",
        type=SCENARIO_FILE.convert,
        metavar=SCENARIO_FILE.metavar,
        help=_help(SCENARIO_FILE),
    )


def _from_environment(flag: Flag) -> Any:
    """The flag's variable, converted; None when unset. A bad value is a usage error."""
    text = os.environ.get(flag.variable)
    if text is None:
        return None
    if flag.switch:
        return text.lower() in ("1", "true", "yes")
    try:
        value = flag.convert(text)
    except (ValueError, argparse.ArgumentTypeError) as error:
        raise SystemExit(f"audjust-mock serve: {flag.variable}={text!r}: {error}") from None
    if flag.choices and _shown(value) not in flag.choices:
        raise SystemExit(
            f"audjust-mock serve: {flag.variable} must be one of {', '.join(flag.choices)}"
        )
    return value


def settings_from(args: argparse.Namespace) -> Settings:
    """Flags first, then AUDJUST_MOCK_* variables; whatever neither gives stays at Settings'
    default. A flag that sets a profile key wins over the --profile file."""
    given: dict[str, Any] = {}
    profile_values: dict[str, Any] = {}
    for flag in FLAGS:
        value = getattr(args, flag.field)
        if flag.switch and not value:
            value = None  # a switch not given may still be set by its variable
        if value is None:
            value = _from_environment(flag)
        elif flag.choices:
            value = flag.convert(value)
        if value is None:
            continue
        if flag.profile_key:
            profile_values[flag.profile_key] = _shown(value)
        else:
            given[flag.field] = value
    if profile_values:
        given["profile"] = given.get("profile", Profile()).with_values(profile_values)
    keys = args.api_keys or _from_environment(API_KEYS)
    if keys:
        given["api_keys"] = tuple(keys)
    run_scenarios = (
        *(args.scenario_flags or _from_environment(SCENARIOS) or ()),
        *(args.scenario_file or _from_environment(SCENARIO_FILE) or ()),
    )
    if run_scenarios:
        given["scenarios"] = run_scenarios
    return Settings(**given)
