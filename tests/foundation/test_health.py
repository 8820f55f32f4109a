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
