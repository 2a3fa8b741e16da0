"""Responses from JSON templates in unit_tests/resource/http/response/<resource>.json.

Each template holds the endpoint's real shape with one sample record and `"next": ""` (the last
page); `.with_pagination()` sets `next` to NEXT_CURSOR.
"""

import json
from typing import Mapping, Optional

from airbyte_cdk.test.mock_http import HttpResponse
from airbyte_cdk.test.mock_http.response_builder import (
    FieldPath,
    FieldUpdatePaginationStrategy,
    HttpResponseBuilder,
    RecordBuilder,
    create_record_builder,
    create_response_builder,
    find_template,
)

NEXT_CURSOR = "cursor-of-page-2"


def response_builder(resource: str, records_field: str) -> HttpResponseBuilder:
    """A response of `resource` (the template's name) whose records sit under `records_field`."""
    return create_response_builder(
        find_template(resource, __file__),
        FieldPath(records_field),
        pagination_strategy=FieldUpdatePaginationStrategy(FieldPath("next"), NEXT_CURSOR),
    )


def record_builder(
    resource: str, records_field: str, id_field: str = "id", cursor_field: Optional[str] = None
) -> RecordBuilder:
    """A record shaped like the template's first record."""
    return create_record_builder(
        find_template(resource, __file__),
        FieldPath(records_field),
        record_id_path=FieldPath(id_field),
        record_cursor_path=FieldPath(cursor_field) if cursor_field else None,
    )


def error_response(status: int, headers: Optional[Mapping[str, str]] = None) -> HttpResponse:
    """An error in Customer.io's shape: {"meta": {"error": "..."}}."""
    return HttpResponse(json.dumps({"meta": {"error": f"sample error {status}"}}), status, dict(headers or {}))
