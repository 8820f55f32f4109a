"""Pipeline benchmarks: what the orchestration costs on top of the solve itself.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hr_bench \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/13 python -m bench.pipeline

Needs PostgreSQL and Redis (the deployment shape); it migrates the database
it is given (created if missing) and purges the broker's queues, so point it
at ones of its own. Starts real `celery worker` processes.

A. Latency. One QAOA n=12 request (reps 2, COBYLA up to 100 evaluations,
   4096 shots, aer_statevector): wall time from just before
   POST /api/v1/requests/ to the moment the request is seen in
   ready_for_review (worker -c 1), against calling quantum.solve with the
   same arguments in this process. Both warm (one solve each first), the two
   alternating; median of 15 (--repeats); the median of 3 such rounds, each
   with a fresh worker (--rounds). Target: ratio <= 1.10.
B. Throughput. 200 requests (random MaxCut n=8, solvers exact and
   local_search: 400 runs) submitted at once (one POST /api/v1/requests/batch/);
   wall time from the POST until all 200 are ready_for_review, worker -c <cores>; against the
   same 400 solves (parse + solve) in a multiprocessing pool of <cores>
   processes. Target: throughput ratio >= 0.9. The full run also repeats B
   at n=16 (--nodes sets B's size with --only B), for the trend only.
"""

from __future__ import annotations

import argparse
import datetime
import multiprocessing
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.results import write_section

ROOT = Path(__file__).resolve().parent.parent
# B again on larger problems in the full run, for the trend only.
WIDE_NODES = 16
QAOA_OPTIONS = {"reps": 2}
SHOTS, SEED = 4096, 7


def maxcut(n: int, seed: int) -> dict[str, Any]:
    rnd = random.Random(seed)
    edges = [
        [i, j, round(rnd.uniform(0.5, 2.0), 3)]
        for i in range(n)
        for j in range(i + 1, n)
        if rnd.random() < 0.5
    ]
    return {"type": "maxcut", "graph": {"nodes": n, "edges": edges}}


def _environment() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hybridreview.settings.local")
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hr_bench")
    os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/13")
    os.environ["DEBUG"] = "False"  # DEBUG keeps every query in memory
    if not os.environ["DATABASE_URL"].startswith("postgres"):
        sys.exit("bench.pipeline measures the deployment shape: set DATABASE_URL=postgres://...")
    _create_database(os.environ["DATABASE_URL"])


def _create_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not found:
            conn.execute(f'CREATE DATABASE "{name}"')


def _setup() -> Any:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from hybridreview.accounts.roles import ANALYST
    from hybridreview.accounts.services import membership_add, team_create
    from hybridreview.celery import app

    call_command("migrate", verbosity=0)
    team = team_create(slug="bench", name="Benchmarks")
    user, _ = get_user_model().objects.get_or_create(username="bench-analyst")
    membership_add(team=team, user=user, roles=(ANALYST,))
    app.control.purge()
    return user


class Worker:
    def __init__(self, concurrency: int, pool: str = "prefork") -> None:
        self.log = Path(tempfile.mkdtemp(prefix="hr-bench-")) / "worker.log"
        cmd = [sys.executable, "-m", "celery", "-A", "hybridreview", "worker"]
        cmd += ["-Q", "quantum,classical,celery", "-c", str(concurrency), "--pool", pool]
        cmd += ["--without-gossip", "--without-mingle", "-l", "INFO"]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + 120
        while " ready." not in self.log.read_text(errors="replace"):
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()  # never leave a half-started worker behind
                raise RuntimeError(self.log.read_text(errors="replace"))
            time.sleep(0.2)

    def stop(self) -> None:
        # The worker has its own process group: stop its pool children with it.
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(30)


def _client(user: Any) -> Any:
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client


def _post(client: Any, body: dict[str, Any]) -> int:
    response = client.post("/api/v1/requests/", body, format="json")
    if response.status_code != 201:
        raise RuntimeError(response.content)
    return int(response.json()["id"])


def _post_batch(client: Any, items: list[dict[str, Any]]) -> list[int]:
    response = client.post("/api/v1/requests/batch/", {"requests": items}, format="json")
    if response.status_code != 201:
        raise RuntimeError(response.content)
    return [int(r["id"]) for r in response.json()["results"]]


class Watcher:
    """Sees requests settle the moment their transaction commits, without polling.

    It LISTENs on the channel the product NOTIFYs when a request settles
    (jobs.settled), on a connection of its own opened before the POST, and
    sleeps in the socket in between: no CPU taken from the worker, no polling
    delay counted against the pipeline. (A watcher polling every 10 ms made the
    worker's solve 5-8% slower on these 2 cores; every 50 ms it still added
    ~25 ms of detection latency on average.) Statuses are checked with one
    query after the moment is taken, and every FALLBACK seconds regardless.
    """

    FALLBACK = 1.0

    def __init__(self) -> None:
        import psycopg

        from jobs.models import OptimizationRequest
        from jobs.settled import CHANNEL

        table = OptimizationRequest._meta.db_table
        self.query = (
            f'SELECT id, status FROM "{table}" WHERE id = ANY(%s) AND status NOT IN (%s, %s)'
        )
        self.conn = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
        self.conn.execute(f"LISTEN {CHANNEL}")

    def close(self) -> None:
        self.conn.close()

    def ready(self, ids: list[int], timeout: float = 900) -> float:
        """The perf_counter moment the last of ``ids`` settled (its notification came);
        raises unless every one of them reached ready_for_review."""
        pending, seen = set(ids), {}
        deadline = time.monotonic() + timeout
        while pending:
            for note in self.conn.notifies(timeout=self.FALLBACK):
                seen.setdefault(int(note.payload), time.perf_counter())
                if pending <= seen.keys():
                    break
            now = time.perf_counter()
            rows = self.conn.execute(self.query, [list(pending), "submitted", "running"])
            for rid, status in rows.fetchall():
                if status != "ready_for_review":
                    raise RuntimeError(f"request {rid} ended {status}")
                pending.discard(rid)
                seen.setdefault(rid, now)  # settled, but its notification was not seen
            if pending and time.monotonic() > deadline:
                raise RuntimeError(f"{len(pending)} requests still pending")
        return max(seen[i] for i in ids)


def bench_latency(user: Any, repeats: int) -> dict[str, Any]:
    """Direct and pipeline runs alternate, so drift in the machine's load hits both alike."""
    import quantum
    from quantum import parse_problem

    payload = maxcut(12, seed=12)
    problem = parse_problem(payload)
    solver = {"name": "qaoa", "backend": "aer_statevector", "options": QAOA_OPTIONS}
    body = {"problem": payload, "solvers": [solver], "shots": SHOTS, "seed": SEED}

    def direct_once() -> float:
        started = time.perf_counter()
        quantum.solve(
            problem,
            solver="qaoa",
            options=QAOA_OPTIONS,
            seed=SEED,
            shots=SHOTS,
            backend="aer_statevector",
        )
        return time.perf_counter() - started

    worker = Worker(concurrency=1)
    watcher = Watcher()
    client = _client(user)
    direct, pipeline = [], []
    try:
        direct_once()  # warm-up: imports and the first transpile in this process
        watcher.ready([_post(client, body)])  # and in the worker's
        ids = []
        for _ in range(repeats):
            direct.append(direct_once())
            started = time.perf_counter()
            ids.append(_post(client, body))
            pipeline.append(watcher.ready(ids[-1:]) - started)
    finally:
        watcher.close()
        worker.stop()
    d, p = statistics.median(direct), statistics.median(pipeline)
    return {
        "direct": d,
        "pipeline": p,
        "ratio": p / d,
        "all_direct": direct,
        "all_pipeline": pipeline,
        "overhead": overhead_from_rows(ids),
    }


def bench_latency_rounds(user: Any, repeats: int, rounds: int) -> dict[str, Any]:
    """``bench_latency`` ``rounds`` times, each with a fresh worker: the ratio moves by
    several percent from round to round on this machine (the solve itself does), so
    the target is judged on the median round; the others are reported with it."""
    results = sorted(
        (bench_latency(user, repeats) for _ in range(rounds)), key=lambda r: r["ratio"]
    )
    middle = dict(results[len(results) // 2])
    middle["rounds"] = [r["ratio"] for r in results]
    return middle


def overhead_from_rows(request_ids: list[int]) -> dict[str, Any]:
    """Median seconds spent outside the solve, read from the rows' own timestamps:
    immune to how busy the machine was while the solve itself ran."""
    from jobs.models import Run

    parts: dict[str, list[float]] = {"enqueue": [], "queue": [], "claim": [], "finish": []}
    solve, evaluations = [], []
    for run in Run.objects.filter(request_id__in=request_ids).select_related("request"):
        req = run.request
        parts["enqueue"].append((run.enqueued_at - req.created_at).total_seconds())
        parts["queue"].append(run.timings["queued"])
        parts["claim"].append(run.timings["wall"] - run.timings["total"])
        parts["finish"].append((req.ready_at - run.finished_at).total_seconds())
        solve.append(run.timings["total"])
        evaluations.append(run.metrics.get("evaluations"))
    out: dict[str, Any] = {k: statistics.median(v) for k, v in parts.items()}
    out["total"] = sum(out.values())
    out["solve"] = statistics.median(solve)
    out["evaluations"] = evaluations
    return out


def _solve_one(args: tuple[dict[str, Any], str]) -> None:
    import quantum

    payload, solver = args
    quantum.solve(quantum.parse_problem(payload), solver=solver, seed=SEED)


def execution_from_rows(request_ids: list[int]) -> float:
    """Seconds from the first run's claim to the last request's ready_at, from the rows:
    the workers' part of the pipeline, without the submission before it."""
    from django.db.models import Max, Min

    from jobs.models import OptimizationRequest, Run

    first = Run.objects.filter(request_id__in=request_ids).aggregate(t=Min("started_at"))["t"]
    last = OptimizationRequest.objects.filter(id__in=request_ids).aggregate(t=Max("ready_at"))["t"]
    return float((last - first).total_seconds())


def persistence_floor(request_ids: list[int]) -> dict[str, Any]:
    """A lower bound on what writing B's rows costs whatever the design: the rows the
    pipeline kept for ``request_ids`` (requests, runs, candidates, audit events),
    read out and written back with one COPY per table into unlogged temporary
    copies of the tables (same columns and indexes; no foreign keys, no WAL),
    in one transaction. No validation, no ORM, no broker, no solve."""
    import psycopg

    from approvals.models import AuditEvent
    from jobs.models import Candidate, OptimizationRequest, Run

    tables = [
        (OptimizationRequest._meta.db_table, "id"),
        (Run._meta.db_table, "request_id"),
        (Candidate._meta.db_table, "request_id"),
        (AuditEvent._meta.db_table, "request_ref"),
    ]
    rows: dict[str, int] = {}
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        dumps = {}
        for table, key in tables:
            with conn.cursor().copy(
                f'COPY (SELECT * FROM "{table}" WHERE "{key}" = ANY(%s)) TO STDOUT',
                [request_ids],
            ) as copy:
                dumps[table] = b"".join(bytes(chunk) for chunk in copy)
            rows[table] = dumps[table].count(b"\n")
            conn.execute(
                f'CREATE TEMP TABLE "floor_{table}" (LIKE "{table}" INCLUDING ALL) ON COMMIT DROP'
            )
        started = time.perf_counter()
        for table, _ in tables:
            with conn.cursor().copy(f'COPY "floor_{table}" FROM STDIN') as copy:
                copy.write(dumps[table])
        conn.commit()
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": rows}


def bench_throughput(user: Any, count: int, workers: int, nodes: int = 8) -> dict[str, Any]:
    payloads = [maxcut(nodes, seed=1000 + i) for i in range(count)]
    jobs = [(p, s) for p in payloads for s in ("exact", "local_search")]
    # spawn, not fork: this process already ran Aer (benchmark A), and a child
    # forked from it inherits Aer's job threads without the threads themselves.
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        pool.map(_solve_one, jobs[: workers * 2])  # warm-up: imports in every process
        started = time.perf_counter()
        pool.map(_solve_one, jobs, chunksize=1)
        direct = time.perf_counter() - started
    worker = Worker(concurrency=workers)
    watcher = Watcher()
    client = _client(user)
    try:
        solvers = [{"name": "exact"}, {"name": "local_search"}]
        warm = [{"problem": p, "solvers": solvers} for p in payloads[: workers * 4]]
        watcher.ready(_post_batch(client, warm))  # warm-up: the batch and group code paths
        items = [{"problem": p, "solvers": solvers, "seed": SEED} for p in payloads]
        started = time.perf_counter()
        ids = _post_batch(client, items)
        posted = time.perf_counter() - started
        pipeline = watcher.ready(ids) - started
    finally:
        watcher.close()
        worker.stop()
    return {
        "direct": direct,
        "pipeline": pipeline,
        "posting": posted,
        "execution": execution_from_rows(ids),
        "floor": persistence_floor(ids),
        "ratio": direct / pipeline,
        "runs": len(jobs),
        "nodes": nodes,
    }


def report(a: dict[str, Any], b: dict[str, Any], workers: int, wide: dict[str, Any]) -> str:
    o = a["overhead"]
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    ok_a = "meets" if a["ratio"] <= 1.10 else "misses"
    ok_b = "meets" if b["ratio"] >= 0.9 else "misses"
    return "\n".join(
        [
            "## pipeline",
            "",
            f"`python -m bench.pipeline`, {when}; {platform.processor() or platform.machine()}, "
            f"{os.cpu_count()} cores, PostgreSQL and Redis on localhost, Python {platform.python_version()}.",
            "",
            "| benchmark | direct | pipeline | ratio | target |",
            "| --- | --- | --- | --- | --- |",
            f"| A. QAOA n=12 latency, POST to ready_for_review (median of {len(a['all_direct'])}; "
            f"median round of {len(a['rounds'])}) "
            f"| {a['direct']:.2f} s | {a['pipeline']:.2f} s | {a['ratio']:.3f} | <= 1.10 ({ok_a}) |",
            f"| B. 200 requests n=8 ({b['runs']} runs: exact, local_search), worker -c {workers} "
            f"| {b['direct']:.2f} s | {b['pipeline']:.2f} s | {b['ratio']:.3f} | >= 0.9 ({ok_b}) |",
            f"| B at n={wide['nodes']}, the same otherwise (not the target: how the ratio moves "
            f"with the solve's size) | {wide['direct']:.2f} s | {wide['pipeline']:.2f} s "
            f"| {wide['ratio']:.3f} | |",
            "",
            f"A, the ratio of every round (each a fresh worker and {len(a['all_direct'])} "
            f"alternating pairs), lowest first: {', '.join(f'{x:.3f}' for x in a['rounds'])}. "
            "The rest of A is the median round's. "
            f"Every repeat: direct {', '.join(f'{x:.2f}' for x in a['all_direct'])} s; "
            f"pipeline {', '.join(f'{x:.2f}' for x in a['all_pipeline'])} s.",
            "",
            "A, time outside the solve, from the rows' timestamps (median): "
            f"submit to enqueued {o['enqueue']:.3f} s, broker to claim {o['queue']:.3f} s, "
            f"claim and parse {o['claim']:.3f} s, result to ready_for_review {o['finish']:.3f} s; "
            f"{o['total']:.3f} s in all against a {o['solve']:.2f} s solve in the worker: "
            f"(solve + overhead) / solve = {(o['solve'] + o['total']) / o['solve']:.3f}. "
            "Not counted there: the POST's own parsing and response. The end is seen by "
            "LISTENing for the notification the product sends at the commit that settles a "
            "request (jobs.settled), not by polling. "
            f"Optimiser evaluations per pipeline run: {o['evaluations']} (same input and seed).",
            "",
            f"B: the batch POST of the 200 requests took {b['posting']:.2f} s of the pipeline "
            "time (same machine, in-process API client); small classical runs travel in groups "
            f"of up to JOBS_GROUP_SIZE per message. The workers' part alone, from the first "
            f"claim to the last ready_for_review (the rows' timestamps), took "
            f"{b['execution']:.2f} s: {b['direct'] / b['execution']:.3f} of the direct "
            "throughput. Not the target's measure (that counts from the POST), but it "
            "separates the cost of intake from the cost of running and recording. "
            f"At n={wide['nodes']} the POST took {wide['posting']:.2f} s and the workers' part "
            f"{wide['execution']:.2f} s, {wide['direct'] / wide['execution']:.3f} of the direct "
            "throughput: what the pipeline adds per request is roughly fixed, so its share "
            "falls as the solves grow.",
            "",
            f"B, a floor for any design that keeps these rows: writing them alone "
            f"({', '.join(f'{n} {t}' for t, n in b['floor']['rows'].items())}) with one COPY "
            f"per table into unlogged copies of the tables, in one transaction, took "
            f"{b['floor']['seconds']:.3f} s, {b['floor']['seconds'] / b['direct']:.2f} of the "
            "direct solves' time. On these 2 cores the solves and the writes share the CPU, so "
            f"the throughput ratio cannot exceed about {b['direct'] / (b['direct'] + b['floor']['seconds']):.2f} "
            "even with nothing else (no HTTP, validation, ORM, broker or audit hashing).",
            f"Load average (1 min) at start and end: {LOAD[0]:.1f}, {os.getloadavg()[0]:.1f} "
            f"on {os.cpu_count()} cores: other work on the machine shows up in both columns.",
        ]
    )


LOAD = os.getloadavg()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=3, help="A's rounds (median reported)")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--nodes", type=int, default=8, help="B's problem size (target: 8)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--only", choices=["A", "B"], help="one benchmark; prints, never writes")
    args = parser.parse_args()
    _environment()
    user = _setup()
    if args.only != "B":
        a = bench_latency_rounds(user, args.repeats, args.rounds)
        print(f"A: direct {a['direct']:.3f}s pipeline {a['pipeline']:.3f}s ratio {a['ratio']:.3f}")
        print(f"A: every round's ratio {[round(r, 3) for r in a['rounds']]}")
        print(f"A: overhead {a['overhead']}")
        print(
            "A: direct",
            [round(x, 3) for x in a["all_direct"]],
            "pipeline",
            [round(x, 3) for x in a["all_pipeline"]],
        )
    if args.only != "A":
        b = bench_throughput(user, args.requests, args.workers, args.nodes)
        print(f"B: direct {b['direct']:.3f}s pipeline {b['pipeline']:.3f}s ratio {b['ratio']:.3f}")
        print(f"B: posting {b['posting']:.3f}s execution (rows) {b['execution']:.3f}s")
        print(f"B: persistence floor {b['floor']}")
    if args.only:
        return
    wide = bench_throughput(user, args.requests, args.workers, WIDE_NODES)
    print(f"B at n={WIDE_NODES}: ratio {wide['ratio']:.3f} execution {wide['execution']:.3f}s")
    section = report(a, b, args.workers, wide)
    print(section)
    if not args.no_write:
        write_section("pipeline", section)


if __name__ == "__main__":
    main()
