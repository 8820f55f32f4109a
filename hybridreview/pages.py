from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def home(request: HttpRequest) -> HttpResponse:
    teams = request.user.teams.order_by("slug")  # type: ignore[union-attr]
    return render(request, "home.html", {"teams": teams})
