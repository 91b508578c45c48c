"""The API's schemas (pydantic): they check every request's query string, and the OpenAPI 3.1
document (`/api/v1/openapi.json`) is generated from them and from the routes themselves.

Each view of `consult.api.views` names its schemas with `@operation(...)`: the query model
that `query()` validates (a value it cannot read is 400 `invalid_parameter`, the field named),
the JSON body model, the response model and the statuses it may answer. `document()` walks the
app's routes under /api/v1, so a route without `@operation` cannot hide from the document
(tests/api/test_openapi.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal, get_args

from flask import current_app, request
from flask_babel import gettext as _
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from consult.api.schemas import BadRequestError
from consult.catalogue.models import CatalogueStatus, ParticipationMethod
from consult.comments.checks import PHONE
from consult.comments.models import Category, CommentStatus
from consult.consultations.models import ConsultationType
from consult.paging import MAX_ID, MAX_PAGE
from consult.search.models import Kind

API_MAX_PER_PAGE = 250  # SPEC §5 / issue 12: pages of up to 250 items in the API
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_DIGITS = re.compile(r"\+?[0-9]{1,12}")

Id = Field(default=None, ge=1, le=MAX_ID)


class Query(BaseModel):
    """A query string: unknown parameters are ignored, known ones checked."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _plain(cls, value, info: ValidationInfo):
        """Query strings are text: empty means absent; integers in ASCII digits only (`int()`
        would also read "１" and "1_0"); nothing that cannot be stored."""
        if isinstance(value, str):
            value = value.strip()
            if value == "":
                return None
            if _UNSTORABLE.search(value):
                raise ValueError("unstorable characters")
            annotation = cls.model_fields[info.field_name].annotation
            if int in (annotation, *get_args(annotation)) and not _DIGITS.fullmatch(value):
                raise ValueError("not an integer")
        return value


class Paged(Query):
    page: int = Field(default=1, ge=1, le=MAX_PAGE, description="1 to 100 000")
    per_page: int | None = Field(default=None, ge=1, le=API_MAX_PER_PAGE,
                                 description="1 to 250 (default 20)")


class Since(Query):
    modified_since: datetime | None = Field(
        default=None, description="ISO 8601 with offset: only what changed after it")

    @field_validator("modified_since")
    @classmethod
    def _aware(cls, value):
        if value is not None and value.tzinfo is None:
            raise ValueError("a time with its offset")
        return value


class ConsultationListQuery(Paged, Since):
    status: Literal["open", "closed", "reported", "all"] = "open"
    unit: int | None = Id
    type: ConsultationType | None = None
    q: str | None = Field(default=None, max_length=200)


class CommentListQuery(Paged, Since):
    pass


class CatalogueQuery(Paged):
    year: int | None = Field(default=None, ge=2000, le=2100)
    unit: int | None = Id
    status: CatalogueStatus | None = None
    method: ParticipationMethod | None = None


class PolicyListQuery(Paged, Since):
    unit: int | None = Id
    year: int | None = Field(default=None, ge=1949, le=2200)


class SearchQuery(Paged):
    q: str = Field(min_length=1, max_length=500)
    kind: Kind | None = None
    unit: int | None = Id
    type: ConsultationType | None = None
    status: Literal["open", "closed", "reported"] | None = None
    year: int | None = Field(default=None, ge=1949, le=2200)


class NoQuery(Query):
    pass


class StatsQuery(Query):
    year: int | None = Field(default=None, ge=2000, le=2100)
    unit: int | None = Id


# ------------------------------------------------------------------ bodies and responses


class CommentBody(BaseModel):
    """A comment posted to the API (SPEC §5). Its types are checked by
    `consult.api.schemas.comment_input`, its rules (and their error codes) by
    `consult.comments.checks`, as for the web form; this model documents the same limits."""

    model_config = ConfigDict(extra="allow")

    body: str = Field(min_length=1, max_length=10_000)
    category: Category
    article: int | None = Field(default=None, ge=1, le=MAX_ID,
                                description="the article's number in the current version")
    display_name: str | None = Field(default=None, max_length=100)
    publish_name: bool = False
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=40, pattern=PHONE.pattern,
                              description="digits, spaces and + - ( )")
    region: str | None = Field(default=None, max_length=100)
    notify: bool = True


class Unit(BaseModel):
    id: int
    name: str


class ListPage(BaseModel):
    """SPEC §5's list envelope."""

    model_config = ConfigDict(extra="allow")

    items: list[dict[str, Any]]
    page: int
    per_page: int
    total: int


class Item(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: int


class Version(BaseModel):
    model_config = ConfigDict(extra="allow")

    consultation_id: int
    number: int
    articles: list[dict[str, Any]]


class SearchPage(ListPage):
    more: bool


class Created(BaseModel):
    tracking_no: str
    status: CommentStatus
    receipt_url: str


class Receipt(BaseModel):
    model_config = ConfigDict(extra="allow")

    tracking_no: str
    status: CommentStatus


class Report(BaseModel):
    model_config = ConfigDict(extra="allow")

    consultation_id: int
    revision: int
    digest: str


class ErrorBody(BaseModel):
    code: str
    message: str
    fields: dict[str, str] | None = None


class Error(BaseModel):
    error: ErrorBody


class Figures(BaseModel):
    model_config = ConfigDict(extra="allow")


class OpenApiDocument(BaseModel):
    model_config = ConfigDict(extra="allow")

    openapi: str


# ------------------------------------------------------------------ the registry


class Operation:
    def __init__(self, *, summary: str, query: type[Query] | None, body: type[BaseModel] | None,
                 response: type[BaseModel], status: int, errors: tuple[int, ...],
                 tags: tuple[str, ...], write: bool):
        self.summary, self.query, self.body = summary, query, body
        self.response, self.status, self.errors, self.tags = response, status, errors, tags
        self.write = write


def operation(*, summary: str, response: type[BaseModel], query: type[Query] | None = None,
              body: type[BaseModel] | None = None, status: int = 200,
              errors: tuple[int, ...] = (400,), tags: tuple[str, ...] = (),
              write: bool = False) -> Callable:
    """Name a view's schemas (for `query()` and the document); `write`: it takes a Bearer
    token (consult.api.writes)."""

    def mark(view: Callable) -> Callable:
        view.openapi = Operation(summary=summary, query=query, body=body, response=response,
                                 status=status, errors=errors, tags=tags, write=write)
        return view

    return mark


def query(model: type[Query]):
    """The request's query string, validated by `model` (400 `invalid_parameter` naming the
    first field that cannot be read)."""
    raw = {name: request.args.get(name) for name in model.model_fields if name in request.args}
    try:
        values = model.model_validate(raw)
    except ValidationError as error:
        fields: dict[str, str] = {}
        for problem in error.errors():
            name = str(problem["loc"][0]) if problem["loc"] else "query"
            fields.setdefault(name, _("参数 %(name)s 的值无效（%(detail)s）。", name=name,
                                      detail=problem["msg"]))
        message = next(iter(fields.values()))
        raise BadRequestError(message, code="invalid_parameter", fields=fields) from None
    if getattr(values, "per_page", 1) is None:
        values = values.model_copy(update={"per_page": current_app.config.get("PER_PAGE", 20)})
    return values


# ------------------------------------------------------------------ the document

_REF = "#/components/schemas/{model}"
_STATUS_TEXT = {200: "OK", 201: "Created", 304: "Not modified", 400: "Malformed request",
                401: "No or bad credentials", 403: "Not allowed", 404: "Not found",
                409: "Refused in this state", 413: "Body too large", 422: "Invalid fields",
                429: "Rate limited"}


def _collect(model: type[BaseModel], components: dict) -> dict:
    schema = model.model_json_schema(ref_template=_REF)
    for name, definition in schema.pop("$defs", {}).items():
        components[name] = definition
    components[model.__name__] = schema
    return {"$ref": _REF.format(model=model.__name__)}


def _parameters(model: type[Query], components: dict) -> list[dict]:
    schema = model.model_json_schema(ref_template=_REF)
    for name, definition in schema.pop("$defs", {}).items():
        components[name] = definition
    required = set(schema.get("required", []))
    params = []
    for name, prop in schema.get("properties", {}).items():
        description = prop.pop("description", None)
        param = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if description:
            param["description"] = description
        params.append(param)
    return params


def _path(rule) -> tuple[str, list[dict]]:
    """The OpenAPI path of a Werkzeug rule and its path parameters."""
    params = []

    def convert(match: re.Match) -> str:
        converter, name = match.group(1), match.group(2)
        schema = ({"type": "integer", "minimum": 1, "maximum": MAX_ID}
                  if converter == "int" else {"type": "string", "maxLength": 64})
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
        return "{" + name + "}"

    path = re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", convert, rule.rule)
    return path.removeprefix("/api/v1"), params


def document(app, base_url: str) -> dict:
    """The OpenAPI 3.1 document of every route under /api/v1."""
    components: dict[str, dict] = {}
    error_ref = _collect(Error, components)
    paths: dict[str, dict] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/api/v1/"):
            continue
        view = app.view_functions[rule.endpoint]
        op: Operation | None = getattr(view, "openapi", None)
        if op is None:
            raise LookupError(f"{rule.endpoint} has no @operation")
        path, path_params = _path(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            entry: dict[str, Any] = {
                "operationId": rule.endpoint.split(".", 1)[1] + (
                    "" if len(rule.methods - {"HEAD", "OPTIONS"}) == 1 else f"_{method.lower()}"),
                "summary": op.summary,
                "parameters": path_params + (
                    _parameters(op.query, components) if op.query else []),
                "responses": {
                    str(op.status): {
                        "description": _STATUS_TEXT.get(op.status, "OK"),
                        "content": {"application/json": {
                            "schema": _collect(op.response, components)}},
                    },
                    **{str(code): {"description": _STATUS_TEXT[code],
                                   "content": {"application/json": {"schema": error_ref}}}
                       for code in sorted({*op.errors, 429} - {op.status})},
                },
            }
            if op.tags:
                entry["tags"] = list(op.tags)
            if op.write:
                entry["security"] = [{"bearer": []}]
            if method == "GET" and op.status == 200:
                entry["responses"]["304"] = {"description": _STATUS_TEXT[304]}
            if op.body is not None:
                entry["requestBody"] = {"required": True, "content": {"application/json": {
                    "schema": _collect(op.body, components)}}}
            paths.setdefault(path, {})[method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {"title": "Consult API", "version": "1",
                 "description": "公众参与平台开放数据接口：意见征集、公众意见、采纳情况、"
                                "政策文件、全文搜索（SPEC §5）。"},
        "servers": [{"url": base_url + "/api/v1"}],
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": {"bearer": {
            "type": "http", "scheme": "bearer",
            "description": "a unit's API token (cst_…), created at /staff/api-tokens"}}},
    }
