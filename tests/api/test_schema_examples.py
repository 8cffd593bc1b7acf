"""The generated OpenAPI schema documents every operation by example: a success example, a
request example for each body, 401 and the other errors as problem details with an example
body, and every example matches its own schema (objects closed: no field the API doesn't send)."""

import json
import re

import pytest
from django.urls import resolve
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from jsonschema import Draft202012Validator

PROBLEM_REF = "#/components/schemas/Problem"
# Problem field errors carry extra keys by design (line, row, sku, product_id, …).
OPEN_OBJECTS = {"ProblemFieldError"}


@pytest.fixture(scope="module")
def schema():
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated))


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", operation


def _json_schema(node, name: str = ""):
    """OpenAPI 3.0 → JSON Schema 2020-12: nullable becomes a null alternative, refs point at
    $defs, and objects with properties admit no others."""
    if isinstance(node, list):
        return [_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _json_schema(v) for k, v in node.items() if k not in ("nullable", "example")}
    if "$ref" in out:
        out["$ref"] = out["$ref"].replace("#/components/schemas/", "#/$defs/")
    if "properties" in node and name not in OPEN_OBJECTS:
        out.setdefault("additionalProperties", False)
    if node.get("nullable"):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


def _validator(schema, media_schema):
    defs = {n: _json_schema(s, n) for n, s in schema["components"]["schemas"].items()}
    return Draft202012Validator({"$defs": defs, **_json_schema(media_schema)})


def _examples(media: dict) -> dict:
    return media.get("examples", {})


def test_the_schema_has_every_operation(schema):
    ids = {op["operationId"] for _, op in operations(schema)}
    assert len(ids) >= 32
    assert {"driver_tokens_create", "driver_tokens_revoke_current", "orders_create"} <= ids


def test_every_operation_has_a_success_example(schema):
    missing = []
    for label, op in operations(schema):
        success = {c: r for c, r in op["responses"].items() if c.startswith("2")}
        assert success, label
        for code, response in success.items():
            for media_type, media in response.get("content", {}).items():
                if not _examples(media):
                    missing.append(f"{label} {code} {media_type}")
    assert not missing, missing


def test_every_request_body_has_an_example(schema):
    missing = []
    for label, op in operations(schema):
        body = op.get("requestBody")
        if body is None:
            continue
        if not _examples(body["content"].get("application/json", {})):
            missing.append(label)
    assert not missing, missing


def test_every_operation_documents_401_and_its_errors_are_problems_with_examples(schema):
    wrong = []
    for label, op in operations(schema):
        if "401" not in op["responses"]:
            wrong.append(f"{label}: no 401")
        for code, response in op["responses"].items():
            if code.startswith("2"):
                continue
            content = response.get("content", {})
            media = content.get("application/problem+json")
            if list(content) != ["application/problem+json"] or media["schema"] != {
                "$ref": PROBLEM_REF
            }:
                wrong.append(f"{label} {code}: not a problem body")
            elif not _examples(media):
                wrong.append(f"{label} {code}: no example")
            else:
                for name, example in _examples(media).items():
                    if example["value"]["status"] != int(code):
                        wrong.append(f"{label} {code} {name}: status {example['value']['status']}")
    assert not wrong, wrong


def test_every_example_matches_its_schema(schema):
    errors, checked = [], 0
    for label, op in operations(schema):
        places = [
            ("request", media_type, media)
            for media_type, media in op.get("requestBody", {}).get("content", {}).items()
        ]
        places += [
            (code, media_type, media)
            for code, response in op["responses"].items()
            for media_type, media in response.get("content", {}).items()
        ]
        for where, media_type, media in places:
            validator = _validator(schema, media["schema"])
            for name, example in _examples(media).items():
                checked += 1
                for error in validator.iter_errors(example["value"]):
                    path = "/".join(map(str, error.absolute_path))
                    errors.append(f"{label} {where} {media_type} {name} at {path}: {error.message}")
    assert checked > 100
    assert not errors, "\n".join(errors)


def test_a_keys_403_example_names_the_scope_its_view_needs(schema):
    wrong = []
    for path, item in schema["paths"].items():
        view = resolve(re.sub(r"\{[^}]+\}", "1", path)).func.view_class
        needed = getattr(view, "required_scopes", None)
        if needed is None:  # driver endpoints: no scopes
            continue
        for method, op in item.items():
            scopes = needed.get(method.upper(), ()) if isinstance(needed, dict) else needed
            assert scopes, f"{method} {path}"
            media = op["responses"]["403"]["content"]["application/problem+json"]
            details = [e["value"]["detail"] for e in media["examples"].values()]
            if not any(all(scope in d for scope in scopes) for d in details):
                wrong.append(f"{method.upper()} {path}: {details} vs {scopes}")
    assert not wrong, wrong


def test_the_check_catches_an_example_that_does_not_match(schema):
    order = schema["paths"]["/api/v1/orders/{number}/"]["get"]["responses"]["200"]
    media = order["content"]["application/json"]
    validator = _validator(schema, media["schema"])
    (example,) = _examples(media).values()
    assert not list(validator.iter_errors(example["value"]))
    assert list(validator.iter_errors({**example["value"], "total_cents": "41.99"}))
    assert list(validator.iter_errors({**example["value"], "totl_cents": 4199}))
