"""Every role against every endpoint and page, on its own team's request and another's.

Each cell asserts the status code and that nothing of the other team (its
request title, team slug, usernames) appears in the body. Adding an endpoint
is one line in ENDPOINTS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.approvals.conftest import TRIANGLE

ROLES = ("analyst", "approver", "admin", "consumer", "auditor")
ALL = frozenset(ROLES)
VIEWERS = frozenset({"analyst", "approver"})  # roles that see requests
DECISION_READERS = frozenset({"analyst", "approver", "consumer", "auditor"})
AUDIT_READERS = frozenset({"admin", "auditor"})
# The record behind a decision: decision readers but consumers (approved outputs only).
EVIDENCE_READERS = DECISION_READERS - {"consumer"}
OTHER_MARKERS = ("ZETA-SECRET-TITLE", "zeta-team", "zeta-analyst", "zeta-approver")
OWN_TITLE = "ALPHA-OWN-TITLE"
SUBMIT_BODY = {"problem": TRIANGLE, "title": "new one", "solvers": [{"name": "exact"}]}


@dataclass(frozen=True)
class Endpoint:
    """One cell row. ``{id}`` / ``{decision}`` in the path is the own or the
    other team's request / decision.

    ``ok``: roles that get ``ok_status`` on their own team's object (or on a
    path without one); other roles get ``denied``. On the other team's object
    every role that may use the endpoint gets 404. ``shows`` must appear in an
    ok body.
    """

    method: str
    path: str
    ok: frozenset[str]
    ok_status: int = 200
    denied: int = 403
    page: bool = False  # session login and a redirect for anonymous, not a token and 401
    data: dict[str, Any] | None = None
    shows: str = ""
    anonymous: int | None = field(default=None)

    @property
    def targets(self) -> tuple[str, ...]:
        return ("own", "other") if "{" in self.path else ("none",)


E = Endpoint
ENDPOINTS = [
    E("POST", "/api/v1/auth/token/", ALL, 201, data={"password": "*"}, anonymous=400),
    E("POST", "/api/v1/auth/token/revoke/?all=true", ALL, 204),
    E("GET", "/api/v1/schemas/", ALL),
    E("GET", "/api/v1/requests/", VIEWERS, shows=OWN_TITLE),
    E("POST", "/api/v1/requests/", frozenset({"analyst"}), 201, data=SUBMIT_BODY),
    E("POST", "/api/v1/solve/?wait=0", frozenset({"analyst"}), 202, data=SUBMIT_BODY),
    E("GET", "/api/v1/requests/{id}/", VIEWERS, denied=404, shows=OWN_TITLE),
    # Acting endpoints refuse a role that may never act with 403, on any request,
    # as recommend and approve do; 404 is for the other team's request.
    E("POST", "/api/v1/requests/{id}/cancel/", frozenset({"analyst"}), data={}),
    E("POST", "/api/v1/requests/{id}/rerun/", frozenset({"analyst"}), 201, data={}),
    E(
        "GET",
        "/api/v1/requests/{id}/audit/",
        VIEWERS | AUDIT_READERS,
        denied=404,
        shows="request.submitted",
    ),
    E("GET", "/audit/", AUDIT_READERS, page=True, shows="alpha-analyst"),
    E("GET", "/audit/export.csv", AUDIT_READERS, page=True, shows="alpha-analyst"),
    E("GET", "/api/v1/audit/", AUDIT_READERS, shows="alpha-analyst"),
    E("GET", "/audit/export.json", AUDIT_READERS, page=True, shows="alpha-analyst"),
    E("GET", "/api/v1/decisions/{decision}/evidence/", EVIDENCE_READERS, shows=OWN_TITLE),
    E("GET", "/decisions/{decision}/evidence/", EVIDENCE_READERS, page=True, shows=OWN_TITLE),
]


def cells() -> list[Any]:
    return [
        pytest.param(role, e, target, id=f"{role}-{e.method}-{e.path}-{target}")
        for e in ENDPOINTS
        for role in (*ROLES, "anonymous")
        for target in e.targets
    ]


def expected_status(role: str, e: Endpoint, target: str) -> int:
    if role == "anonymous":
        return e.anonymous or (302 if e.page else 401)
    if target == "other":
        return 404 if role in e.ok or e.denied == 404 else e.denied
    return e.ok_status if role in e.ok else e.denied


@pytest.fixture
def world(make_team, make_user, make_request, make_decision):
    alpha, zeta = make_team("alpha-team", "Alpha"), make_team("zeta-team", "Zeta")
    users = {role: make_user(f"alpha-{role}", role, team=alpha) for role in ROLES}
    zeta_analyst = make_user("zeta-analyst", "analyst", team=zeta)
    make_user("zeta-approver", "approver", team=zeta)
    own = make_request(users["analyst"], OWN_TITLE, team=alpha)
    other = make_request(zeta_analyst, "ZETA-SECRET-TITLE", team=zeta)
    # Logins and tokens of the other team's people are in the trail too.
    Client().login(username="zeta-approver", password="correct horse battery staple")
    ids = {
        target: {"id": r.pk, "decision": make_decision(r).pk}
        for target, r in (("own", own), ("other", other))
    }
    return {"users": users, **ids}


def client_for(role: str, e: Endpoint, world: Any, password: str) -> Any:
    if role == "anonymous":
        return Client() if e.page else APIClient()
    user = world["users"][role]
    if e.page:
        c = Client()
        c.force_login(user)
        return c
    c = APIClient()
    if e.path != "/api/v1/auth/token/":
        token = c.post(
            "/api/v1/auth/token/", {"username": user.username, "password": password}, format="json"
        ).json()["token"]
        c.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return c


def body_of(response: Any) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


@pytest.mark.parametrize(("role", "endpoint", "target"), cells())
def test_permission_matrix(role, endpoint, target, world, password):
    path = endpoint.path
    if target != "none":
        path = path.format(**world[target])
    data = endpoint.data
    if data is not None and "password" in data and role != "anonymous":
        data = {"username": world["users"][role].username, "password": password}
    client = client_for(role, endpoint, world, password)
    if endpoint.method == "GET":
        response = client.get(path)
    elif endpoint.page:
        response = client.post(path, data or {})
    else:
        response = client.post(path, data or {}, format="json")

    assert response.status_code == expected_status(role, endpoint, target), body_of(response)[:500]
    body = body_of(response)
    for marker in OTHER_MARKERS:
        assert marker not in body, f"{marker} leaked"
    if endpoint.shows and response.status_code == endpoint.ok_status:
        assert endpoint.shows in body
