"""The contract in `schemas/`: loading each JSON Schema and validating documents against it.

References between files resolve offline through one registry keyed by each schema's `$id`.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

_PACKAGE = Path(__file__).resolve().parent
# An installed copy first, then the repository's own folder (editable installs and the tests).
SCHEMA_DIRS = (_PACKAGE / "data" / "schemas", _PACKAGE.parent / "schemas")


def schema_dir() -> Path:
    for folder in SCHEMA_DIRS:
        if (folder / "common.json").is_file():
            return folder
    raise FileNotFoundError(f"no schemas in {' or '.join(str(f) for f in SCHEMA_DIRS)}")


@cache
def _registry() -> Registry:
    resources = []
    for path in sorted(schema_dir().glob("*.json")):
        document = json.loads(path.read_text())
        if "$id" in document:
            resources.append((document["$id"], Resource.from_contents(document)))
    return Registry().with_resources(resources)


def load_schema(name: str) -> dict[str, Any]:
    """The schema stored as `schemas/<name>.json`."""
    document: dict[str, Any] = json.loads((schema_dir() / f"{name}.json").read_text())
    return document


@cache
def _validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(load_schema(name), registry=_registry())


def validate(name: str, document: object) -> None:
    """Raise jsonschema.ValidationError when `document` breaks the schema `name`."""
    _validator(name).validate(document)
