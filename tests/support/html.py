"""Small readers of rendered HTML for the page tests."""

from __future__ import annotations

import re
from typing import Any

_SCRIPT = re.compile(r"<script\b([^>]*)>", re.I)


def inline_scripts(html: str) -> list[str]:
    """Opening tags of scripts the page would run inline (no ``src``); JSON data
    blocks (``type="application/json"``, Django's json_script) are not code."""
    return [
        tag.group(0)
        for tag in _SCRIPT.finditer(html)
        if "src=" not in tag.group(1) and "application/json" not in tag.group(1)
    ]


def page_as(client: Any, user: Any, path: str) -> str:
    """The HTML of ``path`` as ``user`` sees it (signed in with the session);
    the page must answer 200."""
    client.force_login(user)
    response = client.get(path)
    assert response.status_code == 200, path
    return str(response.content.decode())


def text_of(html: str) -> str:
    """The words of ``html``, tags dropped and whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())
