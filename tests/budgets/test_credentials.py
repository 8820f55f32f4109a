"""Backend credentials: encrypted at rest, rotatable, write-only, never logged or echoed."""

from __future__ import annotations

import io
import logging

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection

from approvals.models import AuditEvent
from hybridreview.credentials import CredentialsError
from jobs.services.backends import backend_config_update, backend_test_connection
from quantum.models import BackendConfig

TOKEN = "ibm-api-key-5f1c0d9e7b3a4c2e8d6f0a1b"
IBM = "ibm_runtime:ibm_torino"
URL = f"/api/v1/backends/{IBM}/"


def _raw_row(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT * FROM {BackendConfig._meta.db_table} WHERE name = %s",
            [name],
        )
        return repr(cursor.fetchall())


def _store(token: str = TOKEN) -> BackendConfig:
    config = BackendConfig.objects.get(name=IBM)
    config.set_credentials(token)
    config.save()
    return config


def test_credentials_are_stored_encrypted_and_a_dump_holds_no_token(db):
    config = _store()
    assert TOKEN not in _raw_row(IBM)
    assert config.credentials_encrypted and TOKEN not in config.credentials_encrypted
    dump = io.StringIO()
    call_command("dumpdata", "quantum", stdout=dump)
    assert IBM in dump.getvalue() and TOKEN not in dump.getvalue()


def test_only_a_worker_spec_carries_the_decrypted_token(db):
    config = _store()
    assert config.to_spec().token is None
    spec = config.to_spec(with_credentials=True)
    assert spec.token == TOKEN
    assert TOKEN not in repr(
        spec
    )  # the spec keeps its token out of repr, so a log line cannot leak it


def test_rotation_moves_every_secret_to_the_new_key_and_the_old_key_can_go(db, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.CREDENTIALS_KEYS = [old]
    _store()
    settings.CREDENTIALS_KEYS = [new]
    with pytest.raises(CredentialsError):  # the new key alone cannot read what the old one wrote
        BackendConfig.objects.get(name=IBM).to_spec(with_credentials=True)
    settings.CREDENTIALS_KEYS = [new, old]
    before = BackendConfig.objects.get(name=IBM).credentials_encrypted
    out = io.StringIO()
    call_command("rotate_credentials", stdout=out)
    assert "1 backend(s)" in out.getvalue() and TOKEN not in out.getvalue()
    after = BackendConfig.objects.get(name=IBM).credentials_encrypted
    assert after != before
    settings.CREDENTIALS_KEYS = [new]  # the old key removed
    assert BackendConfig.objects.get(name=IBM).to_spec(with_credentials=True).token == TOKEN
    assert AuditEvent.objects.filter(action="backend.credentials_rotated").count() == 1


def test_rotating_without_the_old_key_fails_and_changes_nothing(db, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.CREDENTIALS_KEYS = [old]
    stored = _store().credentials_encrypted
    settings.CREDENTIALS_KEYS = [new]
    with pytest.raises(Exception, match="cannot be decrypted"):
        call_command("rotate_credentials")
    assert BackendConfig.objects.get(name=IBM).credentials_encrypted == stored


def test_storing_credentials_without_a_key_fails_loudly(db, settings):
    settings.CREDENTIALS_KEYS = []
    config = BackendConfig.objects.get(name=IBM)
    with pytest.raises(ImproperlyConfigured, match="CREDENTIALS_KEYS is empty"):
        config.set_credentials(TOKEN)


def test_the_api_says_503_naming_the_setting_when_credentials_cannot_be_stored(
    operator, client_as, settings
):
    settings.CREDENTIALS_KEYS = []
    response = client_as(operator).patch(
        URL, {"credentials": TOKEN, "enabled": True}, format="json"
    )
    assert response.status_code == 503
    assert "CREDENTIALS_KEYS is not set" in response.json()["detail"]
    assert TOKEN not in response.content.decode()
    config = BackendConfig.objects.get(name=IBM)
    assert not config.has_credentials and not config.enabled  # nothing half-saved
    assert not AuditEvent.objects.filter(action="backend.changed").exists()


def test_a_malformed_key_is_named_by_position_not_echoed(db, settings):
    settings.CREDENTIALS_KEYS = ["not-a-fernet-key-but-secret"]
    with pytest.raises(ImproperlyConfigured) as caught:
        BackendConfig.objects.get(name=IBM).set_credentials(TOKEN)
    assert "entry 1 of 1" in str(caught.value)
    assert "not-a-fernet-key-but-secret" not in str(caught.value)


def test_the_api_takes_credentials_and_only_ever_says_whether_there_are_some(
    operator, client_as, caplog
):
    client = client_as(operator)
    with caplog.at_level(logging.DEBUG):
        response = client.patch(URL, {"credentials": TOKEN}, format="json")
        listed = client.get("/api/v1/backends/")
        one = client.get(URL)
    assert response.status_code == 200, response.content
    assert response.json()["has_credentials"] is True
    for r in (response, listed, one):
        assert TOKEN not in r.content.decode()
        assert "credentials_encrypted" not in r.content.decode()
    assert all(TOKEN not in record.getMessage() for record in caplog.records)
    event = AuditEvent.objects.get(action="backend.changed")
    assert TOKEN not in repr(event.before) + repr(event.after) + event.reason
    assert event.reason == "credentials replaced"
    assert BackendConfig.objects.get(name=IBM).to_spec(with_credentials=True).token == TOKEN


def test_null_credentials_clear_them(operator, client_as):
    _store()
    response = client_as(operator).patch(URL, {"credentials": None}, format="json")
    assert response.json()["has_credentials"] is False
    assert BackendConfig.objects.get(name=IBM).credentials_encrypted == ""


def test_a_failed_connection_test_never_shows_the_token(operator, caplog):
    config = _store()
    BackendConfig.objects.filter(pk=config.pk).update(channel="ibm_cloud", instance="crn:nope")
    config.refresh_from_db()
    from quantum.backends import register_backend

    def refusing(spec):  # a provider that quotes the token back in its error
        from quantum.errors import BackendError

        raise BackendError(f"401 unauthorised for token {spec.token}", permanent=True)

    previous = register_backend("ibm_runtime", refusing)
    try:
        with caplog.at_level(logging.DEBUG):
            result = backend_test_connection(config=config, actor=operator)
    finally:
        register_backend("ibm_runtime", previous)  # type: ignore[arg-type]
    assert not result.ok
    config.refresh_from_db()
    assert config.last_test_ok is False
    for text in (
        result.message,
        config.last_test_message,
        *(r.getMessage() for r in caplog.records),
    ):
        assert TOKEN not in text


def test_the_admin_form_never_renders_stored_credentials(operator, client):
    config = _store()
    client.force_login(operator)
    page = client.get(f"/admin/quantum/backendconfig/{config.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'type="password"' in html and TOKEN not in html
    assert config.credentials_encrypted not in html


def test_the_admin_form_keeps_credentials_when_left_empty_and_audits_changes(operator, client):
    config = _store()
    client.force_login(operator)
    form = {
        "enabled": "on",
        "device": "",
        "channel": "ibm_quantum_platform",
        "instance": "",
        "backend_name": "ibm_torino",
        "max_qubits": "127",
        "max_shots": "100000",
        "options": "{}",
        "cost_per_task": "0",
        "cost_per_shot": "0",
        "cost_per_second": "1.6",
        "credentials": "",
    }
    response = client.post(f"/admin/quantum/backendconfig/{config.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    config.refresh_from_db()
    assert (config.enabled, config.max_qubits) == (True, 127)
    assert config.to_spec(with_credentials=True).token == TOKEN
    event = AuditEvent.objects.filter(action="backend.changed").latest("seq")
    assert event.before == {"enabled": False, "max_qubits": 133}
    assert event.actor_id == operator.id


def test_changing_credentials_in_the_service_is_audited_without_them(operator):
    config = BackendConfig.objects.get(name=IBM)
    backend_config_update(config=config, actor=operator, changes={}, credentials=TOKEN)
    event = AuditEvent.objects.get(action="backend.changed")
    assert event.before == {"has_credentials": False}
    assert event.after == {"has_credentials": True, "name": IBM}


def test_the_admin_form_shows_a_bad_option_at_its_field_instead_of_failing(operator, client):
    config = BackendConfig.objects.get(name="aer_noisy:fake_torino")
    client.force_login(operator)
    form = {
        "enabled": "on",
        "device": "fake_torino",
        "channel": "",
        "instance": "",
        "backend_name": "",
        "max_qubits": str(config.max_qubits),
        "max_shots": str(config.max_shots),
        "options": '{"optimization_level": "abc"}',
        "cost_per_task": "0",
        "cost_per_shot": "0",
        "cost_per_second": "0",
        "credentials": "",
    }
    response = client.post(f"/admin/quantum/backendconfig/{config.pk}/change/", form)
    assert response.status_code == 200  # the form again, not a 500
    assert "must be 0, 1, 2 or 3" in response.content.decode()
    config.refresh_from_db()
    assert config.options == {}
