"""The site's URLs plus one view that fails, for the 500 handlers' tests."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from hybridreview.urls import handler404, handler500, urlpatterns  # noqa: F401


def _boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


urlpatterns = [path("api/v1/boom/", _boom), path("boom/", _boom), *urlpatterns]
