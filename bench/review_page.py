"""Request-page benchmark: a 2^20-outcome distribution against a small one.

    python -m bench.review_page        (any machine; a throwaway SQLite database)

The issue's targets: the page of a request whose QAOA run stored all 2^20
outcomes stays under 500 KB and renders on the server in under 300 ms. The
reference, measured in the same run, is the same page for a request whose
distribution has 2^4 outcomes: the ratio shows what the large distribution
costs over the page's fixed work. The counts are synthetic test input (see
tests/approvals/review_support.huge_request), not a measurement.
The figures are built by the worker when a request is ranked or a
candidate recommended (approvals.figures.figures_warm); the page reads them
from the shared cache. Both are timed. Prints a table and writes it into bench/RESULTS.md between the review markers.
"""

from __future__ import annotations

import datetime
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.results import write_section

REPEATS = 7


def _setup() -> None:
    os.environ["HR_VAR_DIR"] = tempfile.mkdtemp(prefix="hr-bench-review-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "hybridreview.settings.test"
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _time_page(client: Any, url: str) -> tuple[float, list[float], int]:
    started = time.perf_counter()
    first = client.get(url)
    cold = time.perf_counter() - started
    assert first.status_code == 200, first.status_code
    warm = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        client.get(url)
        warm.append(time.perf_counter() - started)
    return cold, warm, len(first.content)


def _time_warm(request_id: int) -> float:
    from django.core.cache import cache

    from approvals.figures import figures_warm

    cache.clear()
    started = time.perf_counter()
    figures_warm(request_id=request_id)
    return time.perf_counter() - started


def main() -> None:
    _setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

    from hybridreview.accounts.roles import ANALYST, ensure_roles
    from hybridreview.accounts.services import membership_add, team_create
    from tests.approvals.review_support import huge_request, ranked_request

    ensure_roles()
    team = team_create(slug="bench", name="Bench")
    ana = get_user_model().objects.create_user(username="ana", password="bench-pass-1")
    membership_add(team=team, user=ana, roles=(ANALYST,))
    warmup = ranked_request(ana, team=team, title="warm-up")
    small = ranked_request(ana, team=team, title="small")
    huge = huge_request(ana, team=team, n=20)
    client = Client()
    client.force_login(ana)

    # Imports and template compilation happen once per process; neither row pays them.
    _time_page(client, f"/requests/{warmup.pk}/")
    ref_build = _time_warm(small.pk)
    big_build = _time_warm(huge.pk)
    ref_cold, ref_warm, ref_size = _time_page(client, f"/requests/{small.pk}/")
    big_cold, big_warm, big_size = _time_page(client, f"/requests/{huge.pk}/")
    ref, big = statistics.median(ref_warm), statistics.median(big_warm)
    rows = [
        ("building the figures (the worker, on ranking and recommendation)", ref_build, big_build),
        ("first page view (figures already built)", ref_cold, big_cold),
        (f"later page views (median of {REPEATS})", ref, big),
    ]
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "## review page",
        "",
        f"`python -m bench.review_page`, {now}; {platform.machine()}, {os.cpu_count()} cores, "
        f"SQLite, Python {platform.python_version()}.",
        "",
        "| render | 2^4 outcomes (reference) | 2^20 outcomes | ratio | target |",
        "| --- | --- | --- | --- | --- |",
    ]
    for i, (label, a, b) in enumerate(rows):
        target = "" if i == 0 else f"< 300 ms ({'meets' if b < 0.3 else 'misses'})"
        lines.append(
            f"| {label} | {a * 1000:.0f} ms | {b * 1000:.0f} ms | {b / a:.2f} | {target} |"
        )
    lines += [
        "",
        f"Page size: reference {ref_size / 1000:.0f} kB, 2^20 outcomes {big_size / 1000:.0f} kB "
        f"(target < 500 kB: {'meets' if big_size < 500_000 else 'misses'}).",
    ]
    table = "\n".join(lines)
    print(table)
    write_section("review-page", table)


if __name__ == "__main__":
    main()
