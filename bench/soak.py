"""Soak: a real stack under steady submissions and repeated worker kills loses nothing.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hr_soak \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/11 python -m bench.soak --minutes 10

On demand only (never in CI). Needs PostgreSQL and Redis; it migrates the
database it is given (created if missing) and purges the broker's queues, so
point it at ones of its own. It starts a real `celery worker` (-c 2) and a
real `celery beat` (the reaper every 15 s), with short leases
(JOBS_LEASE_SECONDS=20, JOBS_RENUDGE_AFTER_SECONDS=30) so that a killed
worker's runs come back within a minute instead of the production quarter hour.

Every --interval seconds it POSTs one request through the API with an
Idempotency-Key: a MaxCut n=8 with exact and local_search, and every fifth
one with QAOA on the ideal simulator as well. Every --kill-every seconds it
SIGKILLs the worker's whole process group, whatever it is doing, and starts a
new one. Then it stops submitting, waits for every accepted request to
settle, and checks what a user would:

- every request the API accepted (201) is in the database and settled;
  none is left submitted or running;
- a run succeeded at most once: no run holds two sets of candidates, and no
  run that did not succeed holds any;
- the audit chain verifies from the first event;
- the worker's pool processes' memory, sampled every 10 s (with
  --kill-every 0 one worker lives through the whole soak, so a leak shows).

It prints the findings and writes its section of bench/RESULTS.md; it exits 1
when a check fails.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hr_soak")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/11")
# Inherited by the worker and beat processes started below.
os.environ["JOBS_LEASE_SECONDS"] = "20"
os.environ["JOBS_RENUDGE_AFTER_SECONDS"] = "30"

from bench import pipeline
from bench.results import write_section

ROOT = Path(__file__).resolve().parent.parent
CLASSICAL = [{"name": "exact"}, {"name": "local_search"}]
WITH_QAOA = [
    {"name": "qaoa", "backend": "aer_statevector", "options": {"reps": 1, "maxiter": 20}},
    *CLASSICAL,
]
SETTLE_TIMEOUT = 300.0


class Beat:
    def __init__(self) -> None:
        folder = Path(tempfile.mkdtemp(prefix="hr-soak-beat-"))
        cmd = [sys.executable, "-m", "celery", "-A", "hybridreview", "beat", "-l", "WARNING"]
        cmd += ["-s", str(folder / "schedule")]
        with (folder / "beat.log").open("wb") as out:
            self.process = subprocess.Popen(
                cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(30)


def kill(worker: pipeline.Worker) -> None:
    """SIGKILL the worker and its pool children at once: no warm shutdown, no acks."""
    os.killpg(worker.process.pid, signal.SIGKILL)
    worker.process.wait(30)


def pool_rss_kib(worker: pipeline.Worker) -> list[int]:
    """Resident memory of each of the worker's pool processes (its children)."""
    children = Path(f"/proc/{worker.process.pid}/task/{worker.process.pid}/children")
    sizes = []
    try:
        pids = children.read_text().split()
    except OSError:
        return []
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        sizes += [int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")]
    return sizes


def soak(user: Any, minutes: float, interval: float, kill_every: float) -> dict[str, Any]:
    client = pipeline._client(user)
    accepted: list[int] = []
    refused: collections.Counter[int] = collections.Counter()
    kills, memory = 0, []  # memory: (seconds since start, worker number, [KiB per process])
    worker, workers = pipeline.Worker(concurrency=2), 1
    beat = Beat()
    started = time.monotonic()
    next_kill = started + kill_every if kill_every else float("inf")
    next_sample = started
    try:
        i = 0
        while time.monotonic() - started < minutes * 60:
            body = {
                "problem": pipeline.maxcut(8, seed=50_000 + i),
                "solvers": WITH_QAOA if i % 5 == 0 else CLASSICAL,
                "shots": 1024,
                "deadline_seconds": 900,
            }
            key = f"soak-{os.getpid()}-{i}"
            response = client.post(
                "/api/v1/requests/", body, format="json", HTTP_IDEMPOTENCY_KEY=key
            )
            if response.status_code == 201:
                accepted.append(int(response.json()["id"]))
            else:
                refused[response.status_code] += 1
            i += 1
            now = time.monotonic()
            if now >= next_sample:
                memory.append((round(now - started), workers, pool_rss_kib(worker)))
                next_sample = now + 10
            if now >= next_kill:
                kill(worker)
                kills += 1
                worker, workers = pipeline.Worker(concurrency=2), workers + 1
                next_kill = time.monotonic() + kill_every
            time.sleep(max(0.0, interval - (time.monotonic() - now)))
        submitting = time.monotonic() - started
        settled_after = wait_settled(accepted)
        memory.append((round(time.monotonic() - started), workers, pool_rss_kib(worker)))
    finally:
        worker.stop()
        beat.stop()
    return {
        "accepted": accepted,
        "refused": dict(refused),
        "kills": kills,
        "submitting": submitting,
        "settled_after": settled_after,
        "memory": memory,
        **check(accepted),
    }


def wait_settled(ids: list[int]) -> float:
    """Seconds until none of ``ids`` is submitted or running (bounded)."""
    from jobs.models import OptimizationRequest

    started = time.monotonic()
    while time.monotonic() - started < SETTLE_TIMEOUT:
        active = OptimizationRequest.objects.filter(id__in=ids, status__in=["submitted", "running"])
        if not active.exists():
            break
        time.sleep(2)
    return time.monotonic() - started


def check(accepted: list[int]) -> dict[str, Any]:
    from django.db.models import Count

    from approvals.audit import audit_verify
    from jobs.models import Candidate, OptimizationRequest, Run

    requests = OptimizationRequest.objects.filter(id__in=accepted)
    statuses = collections.Counter(requests.values_list("status", flat=True))
    runs = Run.objects.filter(request_id__in=accepted)
    run_statuses = collections.Counter(runs.values_list("status", flat=True))
    attempts = collections.Counter(runs.values_list("attempt", flat=True))
    candidates = Candidate.objects.filter(request_id__in=accepted)
    doubled = (
        candidates.values("run_id", "run_rank").annotate(n=Count("id")).filter(n__gt=1).count()
    )
    orphaned = candidates.exclude(run__status="succeeded").values("run_id").distinct().count()
    failures = list(requests.filter(status="failed").values_list("id", "failure_reason")[:10])
    verified = audit_verify()
    problems = []
    if requests.count() != len(accepted):
        problems.append(f"{len(accepted) - requests.count()} accepted requests are missing")
    if statuses["submitted"] or statuses["running"]:
        problems.append(f"{statuses['submitted'] + statuses['running']} requests never settled")
    if doubled:
        problems.append(f"{doubled} (run, rank) pairs hold two candidates: a run recorded twice")
    if orphaned:
        problems.append(f"{orphaned} runs that did not succeed hold candidates")
    if not verified.ok:
        problems.append(f"audit chain: {verified.describe()}")
    return {
        "statuses": dict(statuses),
        "run_statuses": dict(run_statuses),
        "attempts": dict(sorted(attempts.items())),
        "failures": failures,
        "audit": verified.describe(),
        "problems": problems,
    }


def report(result: dict[str, Any], args: argparse.Namespace) -> str:
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    by_worker: dict[int, list[tuple[int, int]]] = collections.defaultdict(list)
    for seconds, worker, sizes in result["memory"]:
        if sizes:
            by_worker[worker].append((seconds, max(sizes) // 1024))
    lived = max(by_worker.values(), key=len, default=[])
    memory = "no memory samples"
    if lived:
        # The first minute holds the imports (Qiskit and Aer with the first QAOA
        # run); growth after it is what a leak would look like.
        warm = next((m for t, m in lived if t >= 60), lived[-1][1])
        memory = (
            f"pool process RSS of the longest-lived worker (max over its processes, "
            f"{len(lived)} samples): {lived[0][1]} MiB at start, {warm} MiB after the "
            f"first minute, {max(m for _, m in lived)} MiB at most, {lived[-1][1]} MiB at "
            f"{lived[-1][0]} s"
        )
    verdict = "all checks pass" if not result["problems"] else "; ".join(result["problems"])
    return "\n".join(
        [
            f"## {section_name(args)}",
            "",
            f"`python -m bench.soak --minutes {args.minutes:g} --interval {args.interval:g} "
            f"--kill-every {args.kill_every:g}`, {when}; {platform.machine()}, "
            f"{os.cpu_count()} cores, PostgreSQL and Redis on localhost, worker -c 2, beat, "
            "leases of 20 s.",
            "",
            f"- Accepted {len(result['accepted'])} requests in {result['submitting']:.0f} s "
            f"(refused: {result['refused'] or 'none'}); "
            + (
                f"the worker was SIGKILLed {result['kills']} times, whatever it was running, "
                "and restarted."
                if args.kill_every
                else "one worker ran throughout (no kills)."
            ),
            f"- All settled {result['settled_after']:.0f} s after the last submission. "
            f"Requests: {result['statuses']}. Runs: {result['run_statuses']}; "
            f"attempts {result['attempts']} (a run on attempt 2 or more was taken back "
            "from a killed worker by the reaper).",
            f"- Failed requests and why: {result['failures'] or 'none'}.",
            f"- Audit: {result['audit']}",
            f"- Memory: {memory}.",
            f"- Verdict: {verdict}.",
        ]
    )


def section_name(args: argparse.Namespace) -> str:
    # A soak without kills is the one that can show a leak: its own section.
    return "soak" if args.kill_every else "soak-memory"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between POSTs")
    parser.add_argument("--kill-every", type=float, default=60, help="0: never kill")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    pipeline._environment()
    user = pipeline._setup()
    result = soak(user, args.minutes, args.interval, args.kill_every)
    section = report(result, args)
    print(section)
    if not args.no_write:
        write_section(section_name(args), section)
    sys.exit(1 if result["problems"] else 0)


if __name__ == "__main__":
    main()
