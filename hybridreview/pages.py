from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from hybridreview.accounts.selectors import member_teams, team_roles


@login_required
def home(request: HttpRequest) -> HttpResponse:
    roles = team_roles(request.user)
    teams = [
        (team, roles.get(team.slug, [])) for team in member_teams(request.user).order_by("slug")
    ]
    return render(request, "home.html", {"teams": teams})
