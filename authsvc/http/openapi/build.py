"""The small vocabulary the OpenAPI document is written in: JSON Schema helpers, a parameter, an
operation, and the function that turns operations into an OpenAPI 3.1 path item.

Parameters are described once, by name and schema; where they travel follows Duo's clients:
the query string for GET and DELETE, a form body (application/x-www-form-urlencoded) for POST.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

Schema = dict[str, Any]

STR: Schema = {"type": "string"}
INT: Schema = {"type": "integer"}
BOOL: Schema = {"type": "boolean"}
ID: Schema = {"type": "string", "minLength": 1, "maxLength": 64}
FLAG: Schema = {"type": "boolean", "description": "true/false or 1/0"}
ANY_OBJECT: Schema = {"type": "object"}
_PATH_PARAM = re.compile(r"{([a-z_]+)}")
ERROR_STATUSES = ("400", "401", "403", "404", "405", "413", "429", "500", "503")


def text(max_length: int = 4096, **extra: Any) -> Schema:
    """A string parameter (the service refuses longer ones, and NUL characters)."""
    return {"type": "string", "maxLength": max_length, **extra}


def nullable(schema: Schema) -> Schema:
    """The schema, or JSON null."""
    return {"anyOf": [schema, {"type": "null"}]}


def ref(name: str) -> Schema:
    """A reference to a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def enum(*values: str) -> Schema:
    return {"type": "string", "enum": list(values)}


def obj(required: dict[str, Schema], optional: dict[str, Schema] | None = None) -> Schema:
    """An object with these required properties (and these optional ones); other properties
    are allowed, as Duo adds fields over time and clients must ignore the ones they do not know."""
    return {"type": "object", "required": sorted(required),
            "properties": {**required, **(optional or {})}}


def integer(minimum: int | None = None, maximum: int | None = None) -> Schema:
    schema: Schema = {"type": "integer"}
    if minimum is not None:
        schema["minimum"] = minimum
    if maximum is not None:
        schema["maximum"] = maximum
    return schema


@dataclass(frozen=True)
class Param:
    """A request parameter (not a path parameter: those come from the path template)."""

    name: str
    schema: Schema
    required: bool = False
    description: str = ""


@dataclass(frozen=True)
class Operation:
    """One method on one path: what it takes and what its `response` member holds."""

    method: str
    path: str
    summary: str
    response: Schema
    params: tuple[Param, ...] = ()
    paged: bool = False
    extension: bool = False  # an authsvc addition, not in Duo's API
    signed: bool = True

    @property
    def tag(self) -> str:
        return "Auth API" if self.path.startswith("/auth/") else "Admin API"

    def operation_id(self) -> str:
        words = re.sub(r"[{}]", "", self.path).strip("/").replace("/", "_")
        return f"{self.method.lower()}_{words}"


PAGED = (Param("limit", integer(1), description="page size (capped per endpoint)"),
         Param("offset", integer(0, 2**31), description="first item"))


def ok_envelope(response: Schema, *, paged: bool) -> Schema:
    """Duo's success envelope around `response`."""
    envelope = obj({"stat": {"const": "OK"}, "response": response})
    if paged:
        envelope["properties"]["metadata"] = ref("PagingMetadata")
    return envelope


def _path_parameters(path: str) -> list[Schema]:
    return [{"name": name, "in": "path", "required": True, "schema": ID}
            for name in _PATH_PARAM.findall(path)]


def _request(op: Operation) -> tuple[list[Schema], Schema | None]:
    params = [*op.params, *(PAGED if op.paged else ())]
    if op.method != "POST":
        query = [{"name": p.name, "in": "query", "required": p.required, "schema": p.schema,
                  **({"description": p.description} if p.description else {})} for p in params]
        return query, None
    form: Schema = {"type": "object", "properties": {
        p.name: {**p.schema, **({"description": p.description} if p.description else {})}
        for p in params}}
    required = sorted(p.name for p in params if p.required)
    if required:
        form["required"] = required
    content = {"application/x-www-form-urlencoded": {"schema": form}}
    return [], {"required": bool(required), "content": content}


def operation_object(op: Operation) -> Schema:
    """The OpenAPI operation object."""
    query, body = _request(op)
    responses: Schema = {"200": {
        "description": "Duo's success envelope",
        "content": {"application/json": {"schema": ok_envelope(op.response, paged=op.paged)}}}}
    statuses = ERROR_STATUSES if op.signed else ("400", "404", "405", "429", "500", "503")
    responses.update({status: {"$ref": f"#/components/responses/E{status}"}
                      for status in statuses})
    operation: Schema = {
        "operationId": op.operation_id(), "summary": op.summary, "tags": [op.tag],
        "parameters": _path_parameters(op.path) + query, "responses": responses,
        "security": [{"duo_hmac": []}] if op.signed else [],
    }
    if op.extension:
        operation["x-authsvc-extension"] = True
    if body is not None:
        operation["requestBody"] = body
    return operation


def paths(operations: Iterable[Operation]) -> Schema:
    """The `paths` object, in the order the operations are given."""
    items: Schema = {}
    for op in operations:
        items.setdefault(op.path, {})[op.method.lower()] = operation_object(op)
    return items
