"""The jobs app's rows: requests, their runs, distributions and candidates, campaigns."""

from jobs.models.budget import Budget, LedgerEntry, LedgerKind, TeamQuota
from jobs.models.campaign import Campaign, CampaignStatus
from jobs.models.heartbeat import WorkerHeartbeat
from jobs.models.request import CachePolicy, OptimizationRequest, RequestStatus
from jobs.models.run import Candidate, Distribution, Run, RunStatus, Tier

__all__ = [
    "Budget",
    "CachePolicy",
    "Campaign",
    "CampaignStatus",
    "Candidate",
    "Distribution",
    "LedgerEntry",
    "LedgerKind",
    "OptimizationRequest",
    "RequestStatus",
    "Run",
    "RunStatus",
    "TeamQuota",
    "Tier",
    "WorkerHeartbeat",
]
