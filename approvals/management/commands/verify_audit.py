"""Verify the audit hash chain: exit 0 when intact, 1 naming the first bad event."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from approvals.audit import audit_verify
from approvals.selectors import request_timeline
from jobs.models import OptimizationRequest


class Command(BaseCommand):
    help = (
        "Walk the audit trail's hash chain from the first event and check it against "
        "the newest anchor file. Exits 1 and names the first event that does not verify."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--request",
            type=int,
            metavar="ID",
            help="also list this optimisation request's events and whether each verified",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = audit_verify()
        if options["request"] is not None:
            self._report_request(options["request"], result.first_bad_seq)
        if not result.ok:
            raise CommandError(result.describe(), returncode=1)
        self.stdout.write(result.describe())

    def _report_request(self, request_id: int, first_bad_seq: int | None) -> None:
        request_obj = OptimizationRequest.objects.filter(pk=request_id).first()
        if request_obj is None:
            raise CommandError(f"no request {request_id}", returncode=2)
        events = list(request_timeline(request_obj))
        self.stdout.write(f"request {request_id}: {len(events)} events")
        for event in events:
            verified = first_bad_seq is None or event.seq < first_bad_seq
            mark = "ok " if verified else "BAD"
            self.stdout.write(f"  {mark} #{event.seq} {event.action} {event.hash}")
