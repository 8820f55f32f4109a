import pytest


def test_healthz_says_the_process_is_alive(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_is_ok_when_database_and_broker_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is True


@pytest.mark.django_db
def test_readyz_is_503_and_names_the_broker_when_it_is_down(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["down"] == ["broker"]


def test_every_response_echoes_the_callers_request_id(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"


def test_a_request_id_is_generated_when_none_or_a_malformed_one_is_sent(client):
    generated = client.get("/healthz")["X-Request-ID"]
    forged = client.get("/healthz", HTTP_X_REQUEST_ID="bad\nid")["X-Request-ID"]
    assert len(generated) == 32
    assert forged != "bad\nid" and len(forged) == 32


@pytest.mark.django_db
def test_probes_addressed_by_pod_ip_are_answered_though_the_host_is_not_allowed(client, settings):
    # A kubelet or load balancer calls http://<pod ip>:8000/readyz: a host
    # ALLOWED_HOSTS does not list, over plain HTTP behind an HTTPS-only site.
    settings.ALLOWED_HOSTS = ["hybridreview.example.org"]
    settings.SECURE_SSL_REDIRECT = True
    pod = {"HTTP_HOST": "10.42.0.17:8000"}

    assert client.get("/healthz", **pod).json() == {"status": "ok"}
    ready = client.get("/readyz", **pod)
    assert ready.status_code == 200 and ready.json()["checks"]["database"]["ok"] is True
    assert ready["X-Request-ID"]
    # Every other page still refuses the unknown host.
    assert client.get("/accounts/login/", **pod).status_code == 400


def test_probes_answer_only_get(client):
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
def test_readyz_names_a_queue_no_worker_took_a_heartbeat_from_without_failing_readiness(
    client, settings
):
    from datetime import timedelta

    from django.utils import timezone

    from jobs.models import WorkerHeartbeat
    from jobs.services import worker_heartbeat_record

    settings.JOBS_WORKER_STALE_SECONDS = 120
    worker_heartbeat_record(hostname="celery@a", queue="classical")
    worker_heartbeat_record(hostname="celery@b", queue="celery")
    old = worker_heartbeat_record(hostname="celery@gone", queue="quantum")
    WorkerHeartbeat.objects.filter(pk=old.pk).update(seen_at=timezone.now() - timedelta(minutes=5))

    response = client.get("/readyz")
    assert response.status_code == 200  # the web still takes requests; runs wait
    workers = response.json()["checks"]["workers"]
    assert workers["ok"] is False
    assert workers["queues"]["classical"]["live_workers"] == 1
    assert workers["queues"]["quantum"]["live_workers"] == 0
    assert workers["queues"]["quantum"]["last_seen"] is not None  # when it was last seen

    worker_heartbeat_record(hostname="celery@c", queue="quantum")
    assert client.get("/readyz").json()["checks"]["workers"]["ok"] is True


def test_beat_sends_a_heartbeat_to_every_queue_a_task_is_routed_to(settings):
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()} | {"celery"}
    beats = [
        entry["options"]["queue"]
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "jobs.heartbeat"
    ]
    assert sorted(beats) == sorted(routed)


def test_favicon_ico_is_the_static_icon_not_a_404(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("favicon.svg")
    assert client.get(response["Location"]).status_code == 200
