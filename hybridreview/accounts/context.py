from typing import Any

from django.http import HttpRequest

from .roles import user_roles


def roles(request: HttpRequest) -> dict[str, Any]:
    r = user_roles(request.user)
    return {"user_roles": sorted(r), "role": {name: name in r for name in r}}
