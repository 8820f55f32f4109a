"""Writes for requests, runs, candidates and campaigns: the only code that changes them."""

from jobs.services.campaigns import (
    campaign_check_open,
    campaign_create,
    campaign_dispatch,
    campaign_run_batch,
    campaigns_dispatch_due,
)
from jobs.services.checks import submission_check
from jobs.services.execution import (
    run_claim,
    run_complete,
    run_error,
    run_execute,
    run_record_provider_job,
    run_time_out,
    runs_execute_group,
)
from jobs.services.heartbeat import worker_heartbeat_record
from jobs.services.lifecycle import request_cancel, request_rerun
from jobs.services.maintenance import request_deadline_pass, requests_sweep_deadlines, runs_reap
from jobs.services.ranking import request_finalise, request_finalise_if_done
from jobs.services.submission import (
    BatchSubmitted,
    Submitted,
    request_submit,
    requests_submit_batch,
)
from jobs.services.transitions import (
    REQUEST_TRANSITIONS,
    RUN_TRANSITIONS,
    request_transition,
    run_transition,
)

__all__ = [
    "REQUEST_TRANSITIONS",
    "RUN_TRANSITIONS",
    "BatchSubmitted",
    "Submitted",
    "campaign_check_open",
    "campaign_create",
    "campaign_dispatch",
    "campaign_run_batch",
    "campaigns_dispatch_due",
    "request_cancel",
    "request_deadline_pass",
    "request_finalise",
    "request_finalise_if_done",
    "request_rerun",
    "request_submit",
    "request_transition",
    "requests_submit_batch",
    "requests_sweep_deadlines",
    "run_claim",
    "run_complete",
    "run_error",
    "run_execute",
    "run_record_provider_job",
    "run_time_out",
    "run_transition",
    "runs_execute_group",
    "runs_reap",
    "submission_check",
    "worker_heartbeat_record",
]
