"""GitHub's published OpenAPI description, used to check the fake GitHub API's traffic.

The description is the npm package `@octokit/openapi` (`generated/api.github.com.json`, OpenAPI
3.0.3). Tests find it through `DOJO_GITHUB_OPENAPI` or at `.cache/octokit-openapi/` under the repo
root, where `.ci/run` fetches it. Schemas are checked with `openapi-schema-validator` (jsonschema
validators for OpenAPI 3.0's dialect: `nullable`, `readOnly`, formats); `$ref`s are resolved by
`referencing`, with the whole document registered as one resource.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import pytest
from openapi_schema_validator import (
    OAS30ReadValidator,
    OAS30WriteValidator,
    oas30_format_checker,
)
from referencing import Registry, Resource

from tests.support.tools import REQUIRE_ENV, tools_required

SPEC_ENV = "DOJO_GITHUB_OPENAPI"
ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SPEC = ROOT / ".cache" / "octokit-openapi" / "api.github.com.json"
# The document's own `#/...` references resolve against this base URI.
_BASE = "urn:github:openapi"
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def spec_path() -> Path:
    """Where the description is expected (`DOJO_GITHUB_OPENAPI`, else the default cache path)."""
    configured = os.environ.get(SPEC_ENV)
    return Path(configured) if configured else DEFAULT_SPEC


def require_spec() -> GitHubOpenAPI:
    """The loaded description; skip (or fail under DOJO_REQUIRE_TOOLS=1) when it is missing."""
    path = spec_path()
    if not path.is_file():
        message = (
            f"needs GitHub's OpenAPI description at {path} (npm @octokit/openapi, "
            f"generated/api.github.com.json; or set {SPEC_ENV})"
        )
        if tools_required():
            pytest.fail(f"{message} ({REQUIRE_ENV} is set)")
        pytest.skip(message)
    return load(path)


@functools.cache
def load(path: Path) -> GitHubOpenAPI:
    """Parse the description once per test session."""
    return GitHubOpenAPI(json.loads(path.read_text(encoding="utf-8")))


@dataclass(frozen=True)
class Operation:
    """One documented operation matched by a concrete request."""

    method: str
    template: str
    operation_id: str
    pointer: str
    definition: Mapping[str, Any]
    path_params: Mapping[str, str]


def _template_regex(template: str, multi_segment: frozenset[str] = frozenset()) -> re.Pattern[str]:
    """The paths `template` matches; a parameter GitHub marks `x-multi-segment` (a git ref such
    as `tags/v1.2.3`) may span several segments."""
    parts = re.split(r"(\{[^/{}]+\})", template)
    pattern = "".join(
        f"(?P<{part[1:-1].replace('-', '_')}>{'.+' if part[1:-1] in multi_segment else '[^/]+'})"
        if part.startswith("{")
        else re.escape(part)
        for part in parts
    )
    return re.compile(f"^{pattern}$")


class GitHubOpenAPI:
    """Checks requests and responses against GitHub's description; methods return problems."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.version = str(document.get("info", {}).get("version", "?"))
        resource: Resource[Any] = Resource.opaque(document)
        self._registry: Registry[Any] = Registry().with_resource(_BASE, resource)
        self._resolver = self._registry.resolver(base_uri=_BASE)
        # Literal segments win over parameters (`/releases/latest` before `/releases/{id}`).
        self._templates = sorted(
            (
                (template, _template_regex(template, self._multi_segment(template)))
                for template in document["paths"]
            ),
            key=lambda item: (item[0].count("{"), -len(item[0])),
        )

    def _multi_segment(self, template: str) -> frozenset[str]:
        names: set[str] = set()
        for method, definition in self.document["paths"][template].items():
            if method not in _METHODS:
                continue
            for index in range(len(definition.get("parameters", []))):
                pointer = f"/paths/{_escape(template)}/{method}/parameters/{index}"
                _, param = self._follow(pointer)
                if param.get("in") == "path" and param.get("x-multi-segment"):
                    names.add(str(param["name"]))
        return frozenset(names)

    def _follow(self, pointer: str) -> tuple[str, Mapping[str, Any]]:
        """The node at `pointer`, following `$ref`s; returns its final pointer too."""
        node: Mapping[str, Any] = self._resolver.lookup(f"{_BASE}#{pointer}").contents
        while "$ref" in node:
            ref = str(node["$ref"])
            pointer = ref.partition("#")[2]
            node = self._resolver.lookup(f"{_BASE}#{pointer}").contents
        return pointer, node

    def _problems(self, where: str, pointer: str, value: Any, *, reading: bool) -> list[str]:
        # A `$ref` into the registered document, so the schema's own `#/components/...`
        # references resolve against the whole description.
        cls = OAS30ReadValidator if reading else OAS30WriteValidator
        validator = cls(
            {"$ref": f"{_BASE}#{pointer}"},
            registry=self._registry,
            format_checker=oas30_format_checker,
        )
        errors = sorted(
            validator.iter_errors(value), key=lambda e: [str(p) for p in e.absolute_path]
        )
        return [
            f"{where}: {'/'.join(str(p) for p in error.absolute_path) or '(root)'}: "
            f"{error.message[:300]}"
            for error in errors[:10]
        ]

    def match(self, method: str, path: str) -> Operation | None:
        """The documented operation for `method path` (path without the query), if any."""
        for template, regex in self._templates:
            found = regex.match(path)
            if not found:
                continue
            definition = self.document["paths"][template].get(method.lower())
            if definition is None:
                continue
            names = re.findall(r"\{([^/{}]+)\}", template)
            values = found.groupdict()
            params = {name: unquote(values[name.replace("-", "_")]) for name in names}
            pointer = f"/paths/{_escape(template)}/{method.lower()}"
            return Operation(
                method.upper(), template, definition["operationId"], pointer, definition, params
            )
        return None

    def _parameters(self, operation: Operation) -> list[tuple[str, Mapping[str, Any]]]:
        item = f"/paths/{_escape(operation.template)}"
        found = []
        shared = self.document["paths"][operation.template].get("parameters", [])
        for base, entries in (
            (f"{item}/parameters", shared),
            (f"{operation.pointer}/parameters", operation.definition.get("parameters", [])),
        ):
            found += [self._follow(f"{base}/{index}") for index in range(len(entries))]
        return found

    def check_request(
        self,
        method: str,
        path: str,
        query: Mapping[str, list[str]],
        body: Any,
    ) -> tuple[Operation | None, list[str]]:
        """Match the request and list what does not follow the description."""
        where = f"{method} {path}"
        operation = self.match(method, path)
        if operation is None:
            return None, [f"{where}: no such operation in GitHub's OpenAPI description"]
        problems: list[str] = []
        params = self._parameters(operation)
        documented = {(param["in"], param["name"]) for _, param in params}
        problems += [
            f"{where}: query parameter {name!r} is not documented"
            for name in query
            if ("query", name) not in documented
        ]
        for pointer, param in params:
            if param["in"] == "path":
                raw: str | None = operation.path_params.get(param["name"])
            elif param["in"] == "query":
                raw = query[param["name"]][-1] if param["name"] in query else None
            else:
                continue
            if raw is None:
                if param.get("required"):
                    problems.append(f"{where}: {param['in']} parameter {param['name']!r} missing")
                continue
            schema_pointer, schema = self._follow(f"{pointer}/schema")
            problems += self._problems(
                f"{where}: {param['in']} parameter {param['name']!r}",
                schema_pointer,
                _coerce(raw, schema),
                reading=False,
            )
        if "requestBody" not in operation.definition:
            if body is not None:
                problems.append(f"{where}: sends a body, but the operation takes none")
            return operation, problems
        body_pointer, request_body = self._follow(f"{operation.pointer}/requestBody")
        if body is None:
            if request_body.get("required"):
                problems.append(f"{where}: the request body is required")
        elif "application/json" not in request_body.get("content", {}):
            problems.append(f"{where}: the operation takes no application/json body")
        else:
            schema_pointer = f"{body_pointer}/content/{_escape('application/json')}/schema"
            problems += self._problems(
                f"{where}: request body", schema_pointer, body, reading=False
            )
        return operation, problems

    def check_response(self, operation: Operation, status: int, body: Any) -> list[str]:
        """List what in a response (status and JSON body) does not follow the description."""
        where = f"{operation.method} {operation.template} -> {status}"
        if str(status) not in operation.definition["responses"]:
            if status < 400:
                return [f"{where}: status not documented for {operation.operation_id}"]
            # Errors any endpoint can give (401, 403 on a write, 5xx) carry GitHub's basic error.
            return self._problems(
                f"{where} (basic-error)", "/components/schemas/basic-error", body, reading=True
            )
        pointer, response = self._follow(f"{operation.pointer}/responses/{status}")
        if "application/json" not in response.get("content", {}):
            if body is not None and status >= 400:
                # GitHub sends its basic error with every error, documented or not.
                return self._problems(
                    f"{where} (basic-error)", "/components/schemas/basic-error", body, reading=True
                )
            if body is not None:
                return [f"{where}: documented without a body, but one was sent"]
            return []
        schema_pointer = f"{pointer}/content/{_escape('application/json')}/schema"
        return self._problems(f"{where} body", schema_pointer, body, reading=True)


def _escape(token: str) -> str:
    """One JSON-pointer token (RFC 6901), percent-encoded for use in a URI fragment."""
    return quote(token.replace("~", "~0").replace("/", "~1"), safe="~")


def _coerce(raw: str, schema: Mapping[str, Any]) -> Any:
    if schema.get("type") == "integer":
        try:
            return int(raw)
        except ValueError:
            return raw
    if schema.get("type") == "boolean" and raw in ("true", "false"):
        return raw == "true"
    return raw
