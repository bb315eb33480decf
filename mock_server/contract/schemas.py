"""The contract in `schemas/`: loading each JSON Schema and validating documents against it, and
the two OpenAPI documents there (the API's, bundled with those schemas, and the control routes').

References between files resolve offline through one registry keyed by each schema's `$id`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema import Draft202012Validator, ValidationError
from referencing import Registry, Resource

# A link to the repository's `schemas/` in a checkout; a copy of it in a built wheel.
SCHEMA_DIR = Path(__file__).resolve().parent.parent / "data" / "schemas"
# Where a bundled OpenAPI document keeps what the files in `schemas/` hold.
_COMPONENTS = "#/components/schemas/"
# The files in `schemas/` that are OpenAPI documents; every other one is a JSON Schema.
OPENAPI_DOCUMENTS = frozenset({"openapi", "control-openapi"})
# JSON Schemas of the mock's own documents (profiles, recordings, the fidelity ledger), no part
# of the API's contract.
OWN_SCHEMAS = frozenset({"profile", "recording", "fidelity"})
# The results origin's one path in `openapi.json`, with servers of its own (not the API's).
RESULTS_PATH = "/{requestId}/{name}"


def schema_names() -> list[str]:
    """The API's JSON Schemas in `schemas/`, by file stem, sorted (not the mock's own)."""
    stems = (path.stem for path in SCHEMA_DIR.glob("*.json"))
    return sorted(stem for stem in stems if stem not in OPENAPI_DOCUMENTS | OWN_SCHEMAS)


@cache
def _registry() -> Registry:
    resources = []
    for name in schema_names():
        document = load_schema(name)
        if "$id" in document:
            resources.append((document["$id"], Resource.from_contents(document)))
    return Registry().with_resources(resources)


def load_schema(name: str) -> dict[str, Any]:
    """The schema stored as `schemas/<name>.json`."""
    document: dict[str, Any] = json.loads((SCHEMA_DIR / f"{name}.json").read_text())
    return document


@cache
def _validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(load_schema(name), registry=_registry())


def validate(name: str, document: object) -> None:
    """Raise jsonschema.ValidationError when `document` breaks the schema `name`."""
    _validator(name).validate(document)


def errors(name: str, document: object) -> Iterator[ValidationError]:
    """Every way `document` breaks the schema `name` (`layers` sorts them by basis)."""
    return _validator(name).iter_errors(document)


def every_error(name: str, document: object) -> list[jsonschema.ValidationError]:
    """Every way `document` breaks the schema `name`, in document order: for a person fixing a
    file, who would otherwise fix one error a run."""
    return sorted(errors(name, document), key=lambda e: [str(part) for part in e.absolute_path])


@cache
def bundled_openapi() -> dict[str, Any]:
    """`openapi.json` with every schema file inlined under components, for tools that
    cannot follow references to sibling files (code generators, fuzzers, a browser)."""
    document = load_schema("openapi")
    inlined: dict[str, Any] = {}
    for name in schema_names():
        schema = load_schema(name)
        for key in ("$schema", "$id"):
            schema.pop(key)
        inlined.update(schema.pop("$defs", {}))
        if name != "common":
            inlined[name] = schema
    document.setdefault("components", {})["schemas"] = inlined
    rewritten: dict[str, Any] = _rewrite_refs(document)
    return rewritten


def on_results_origin(document: dict[str, Any]) -> tuple[str, ...]:
    """The paths served on the results origin: those with servers of their own (results, and
    upload storage and retrieval)."""
    return tuple(path for path, item in document["paths"].items() if "servers" in item)


def with_results_server(document: dict[str, Any], server: dict[str, str]) -> dict[str, Any]:
    """`document` (the API's, bundled or not) with `server` first among the servers of each
    path on the results origin; `document` itself is left as it is, since `bundled_openapi()`
    is shared."""
    paths = dict(document["paths"])
    for path in on_results_origin(document):
        paths[path] = {**paths[path], "servers": [server, *paths[path]["servers"]]}
    return {**document, "paths": paths}


@cache
def control_openapi() -> dict[str, Any]:
    """`control-openapi.json`: the mock's own /_mock/* routes, which the live API does not have.
    It refers to nothing outside itself, so it is served as it is stored."""
    return load_schema("control-openapi")


def _rewrite_refs(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: _local_ref(value) if key == "$ref" else _rewrite_refs(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(item) for item in node]
    return node


def _local_ref(ref: str) -> str:
    """`common.json#/$defs/url` and `#/$defs/url` -> the `url` component; `x.json` -> `x`."""
    file_name, _, fragment = ref.partition("#")
    if fragment.startswith("/$defs/"):
        return _COMPONENTS + fragment.removeprefix("/$defs/")
    if file_name:
        return _COMPONENTS + file_name.removesuffix(".json")
    return ref
