"""Small readers of rendered HTML for the page tests."""

from __future__ import annotations

import re

_SCRIPT = re.compile(r"<script\b([^>]*)>", re.I)


def inline_scripts(html: str) -> list[str]:
    """Opening tags of scripts the page would run inline (no ``src``); JSON data
    blocks (``type="application/json"``, Django's json_script) are not code."""
    return [
        tag.group(0)
        for tag in _SCRIPT.finditer(html)
        if "src=" not in tag.group(1) and "application/json" not in tag.group(1)
    ]
