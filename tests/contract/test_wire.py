"""The wire vocabulary has one owner: each listed message, the key header and each route's path
is written once in the package (in contract/wire.py), no list of a route's fields or required
parameters is written anywhere else, and what wire.py says of each route is what `schemas/`
says."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest

import mock_server
from mock_server.contract import wire
from mock_server.contract.schemas import control_openapi, load_schema

PACKAGE = Path(mock_server.__file__).resolve().parent
WIRE = Path(wire.__file__).resolve()
ROUTES = (*wire.API_ROUTES, wire.TRIGGER)
WORDS = (*wire.LISTED_ERRORS, wire.KEY_HEADER, *(route.path for route in ROUTES))
FIELDS = {field for route in ROUTES for field in route.fields}


def strings(node: ast.AST) -> list[str] | None:
    """The strings a collection literal, a dict's values or a call's positional arguments are
    made of, when they are all strings; None otherwise."""
    items: list[ast.expr]
    if isinstance(node, ast.Call):
        items = node.args
    elif isinstance(node, ast.Dict):
        items = node.values
    elif isinstance(node, ast.Tuple | ast.List | ast.Set):
        items = node.elts
    else:
        return None
    values = [
        item.value
        for item in items
        if isinstance(item, ast.Constant) and isinstance(item.value, str)
    ]
    return values if len(values) == len(items) else None


def route_lists(tree: ast.AST) -> list[tuple[int, list[str]]]:
    """(line, names) of every collection or call of two or more strings that are all fields of
    the routes: a route's fields or required parameters (or a choice among them) written out."""
    found = []
    for node in ast.walk(tree):
        names = strings(node)
        if names is None or len(names) < 2:
            continue
        if set(names) <= FIELDS:
            found.append((getattr(node, "lineno", 0), names))
    return found


def written(path: Path) -> Counter[str]:
    """How often each word of the vocabulary is written as a whole string literal in `path`."""
    tree = ast.parse(path.read_text())
    return Counter(
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in WORDS
    )


def test_each_listed_message_the_key_header_and_each_route_is_written_once_in_wire() -> None:
    where: dict[str, list[str]] = {word: [] for word in WORDS}
    for path in sorted(PACKAGE.rglob("*.py")):
        for word, count in written(path).items():
            where[word].extend([str(path.relative_to(PACKAGE))] * count)
    assert where == {word: ["contract/wire.py"] for word in WORDS}


def test_no_route_fields_are_listed_outside_wire() -> None:
    listed = {
        f"{path.relative_to(PACKAGE)}:{line}: {names}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.resolve() != WIRE
        for line, names in route_lists(ast.parse(path.read_text()))
    }
    assert listed == set()


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ('call.takes_only("resultWebhook", "sourceFileUrl", "features")\n', True),
        ('FIRST = ("similarity", "boundaries")\n', True),
        ('OPTIONAL = {"format", "song"}\n', True),
        ('VOLATILE = frozenset({"requestId", "resultWebhook"})\n', False),  # not all a route's
        ('body = {"sourceFileUrl": url, "resultWebhook": hook}\n', False),  # a payload written
        ('call.required("similarity")\n', False),  # one field read
        ('FIRST = {"/analyze": "sourceFileUrl", "/resize": "similarity"}\n', True),
    ],
)
def test_the_scan_finds_a_list_of_route_fields(source: str, found: bool) -> None:
    assert bool(route_lists(ast.parse(source))) is found


@pytest.mark.parametrize("route", wire.API_ROUTES, ids=lambda route: route.name)
def test_each_route_takes_what_its_request_schema_allows(route: wire.Route) -> None:
    schema = load_schema(f"{route.name}-request")
    assert route.fields == tuple(schema["properties"])
    assert set(route.required) == set(schema["required"])


def test_the_trigger_takes_what_the_control_document_allows() -> None:
    schema = control_openapi()["components"]["schemas"]["Trigger"]
    assert wire.TRIGGER.fields == tuple(schema["properties"])
    assert set(wire.TRIGGER.required) == set(schema["required"])
    assert wire.TRIGGER.path in control_openapi()["paths"]


def test_the_api_documents_a_body_for_exactly_the_wire_routes() -> None:
    document = load_schema("openapi")
    paths = {
        path
        for path in document["paths"]
        if "requestBody" in document["paths"][path].get("post", {})
    }
    assert paths == wire.API_PATHS == {route.path for route in wire.API_ROUTES}
    with_sources = {route.path for route in wire.API_ROUTES if "sourceFileUrl" in route.required}
    assert with_sources == wire.SOURCE_PATHS
