"""One page shape for every list of the API: ``{"count", "next", "previous", "results"}``.

Its own module, importing only DRF's pagination: DRF's generic views load
DEFAULT_PAGINATION_CLASS while they are being defined.
"""

from __future__ import annotations

from typing import Any

from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response


class Pagination(PageNumberPagination):
    """PAGE_SIZE items per page, or ``?page_size=`` up to 200."""

    page_size_query_param = "page_size"
    max_page_size = 200


def page_response(request: Request, view: Any, items: Any, serializer: Any) -> Response:
    """One page of ``items`` (a queryset or a list), each through ``serializer``."""
    paginator = Pagination()
    page: list[Any] | None = paginator.paginate_queryset(items, request, view=view)
    return paginator.get_paginated_response(serializer(page, many=True).data)
