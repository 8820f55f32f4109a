from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static

from hybridreview.accounts.selectors import member_teams, team_roles


@login_required
def home(request: HttpRequest) -> HttpResponse:
    roles = team_roles(request.user)
    teams = [
        (team, roles.get(team.slug, [])) for team in member_teams(request.user).order_by("slug")
    ]
    return render(request, "home.html", {"teams": teams})


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages that do not name an icon (the API
    docs, the Django admin): send them to the one in static/, not a 404."""
    return redirect(static("favicon.svg"), permanent=True)
