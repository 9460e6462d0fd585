"""GET /api/v1/openapi.json: generated from the code, complete, self-consistent."""
from __future__ import annotations

import re

import pytest

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture
def spec(client):
    resp = client.get("/api/v1/openapi.json")  # no token needed
    assert resp.status_code == 200
    return resp.get_json()


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def test_every_api_route_and_method_is_described(app, spec):
    """A new /api/v1 route without a docstring entry fails here."""
    routes = [(rule, m) for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1")
              for m in rule.methods & METHODS]
    assert len(routes) >= 9
    missing = [(m, rule.rule) for rule, m in routes
               if m.lower() not in spec["paths"].get(_openapi_path(rule.rule), {})]
    assert missing == []
    # And nothing is described that does not exist.
    described = {(p, m.upper()) for p, ops in spec["paths"].items() for m in ops if m.upper() in METHODS}
    assert described == {(_openapi_path(r.rule), m) for r, m in routes}


def test_converter_paths_are_templated():
    assert _openapi_path("/api/v1/orders/<int:id>/lines/<line_id>") == "/api/v1/orders/{id}/lines/{line_id}"


def test_document_header_security_and_error_schema(spec):
    assert spec["openapi"] == "3.0.3"
    assert spec["info"]["title"] == "Hazex API"
    assert spec["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    assert spec["security"] == [{"bearer": []}]
    error = spec["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    assert set(error["properties"]["error"]["properties"]) == {"code", "message", "field"}
    # Only getting a token, this document and the published prices are public.
    public = {(p, m) for p, ops in spec["paths"].items() for m, op in ops.items()
              if op.get("security") == []}
    assert public == {("/api/v1/auth/token", "post"), ("/api/v1/openapi.json", "get"),
                      ("/api/v1/prices", "get")}


def test_every_operation_documents_its_responses(spec):
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert op.get("summary"), (method, path)
            # 201 for writes that create something (DESIGN.md §9), 200 otherwise.
            assert {"200", "201"} & set(op["responses"]), (method, path)
            if op.get("security") != []:
                assert "401" in op["responses"], (method, path)
            if method == "post" and path != "/api/v1/auth/token":
                params = [p.get("$ref", "") for p in op.get("parameters", [])]
                assert "#/components/parameters/IdempotencyKey" in params, path


def test_every_reference_resolves(spec):
    refs: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    assert refs
    for ref in refs:
        assert ref.startswith("#/"), ref
        node = spec
        for part in ref[2:].split("/"):
            assert part in node, ref
            node = node[part]
