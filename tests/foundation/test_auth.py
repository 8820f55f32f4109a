import pytest
from knox.models import AuthToken

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_login_page_renders_a_form(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b'name="password"' in response.content


def test_a_user_logs_in_with_the_form_and_sees_their_team(client, make_user, password):
    make_user("ana", "analyst")
    response = client.post(
        "/accounts/login/", {"username": "ana", "password": password}, follow=True
    )
    assert response.status_code == 200
    assert b"Demo" in response.content and b"analyst" in response.content


def test_a_token_is_issued_for_good_credentials_and_stored_hashed(api_client, make_user, password):
    make_user("ana", "analyst")
    response = api_client.post(
        "/api/v1/auth/token/", {"username": "ana", "password": password}, format="json"
    )
    assert response.status_code == 201
    token = response.json()["token"]
    stored = AuthToken.objects.get()
    assert token not in (stored.digest, stored.token_key)
    assert response.json()["expiry"] is not None


def test_wrong_credentials_get_a_401_with_a_json_error(api_client, make_user):
    make_user("ana", "analyst")
    response = api_client.post(
        "/api/v1/auth/token/", {"username": "ana", "password": "nope"}, format="json"
    )
    assert response.status_code == 401
    assert "Unable to log in" in response.json()["detail"]
    assert AuthToken.objects.count() == 0


def test_a_missing_password_is_a_400_naming_the_field(api_client):
    response = api_client.post("/api/v1/auth/token/", {"username": "ana"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "password", "message": "This field is required."}
    ]


def test_a_misspelt_token_field_is_a_400_naming_it_like_the_rest_of_the_api(api_client):
    body = {"username": "ana", "password": "x", "passwrd": "x"}
    response = api_client.post("/api/v1/auth/token/", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "passwrd"


def test_a_revoked_token_no_longer_authenticates(client_as, make_user):
    c = client_as(make_user("ana", "analyst"))
    assert c.post("/api/v1/auth/token/revoke/").status_code == 204
    response = c.post("/api/v1/auth/token/revoke/")
    assert response.status_code == 401


@pytest.mark.parametrize("value", ["true", "1", "yes", "True"])
def test_revoking_all_revokes_every_token_of_the_user(client_as, make_user, value):
    user = make_user("ana", "analyst")
    first, second = client_as(user), client_as(user)
    assert first.post(f"/api/v1/auth/token/revoke/?all={value}").status_code == 204
    assert second.get("/api/v1/requests/").status_code == 401
    assert not AuthToken.objects.filter(user=user).exists()


def test_an_unreadable_all_flag_is_a_400_and_revokes_nothing(client_as, make_user):
    user = make_user("ana", "analyst")
    c = client_as(user)
    response = c.post("/api/v1/auth/token/revoke/?all=everything")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "all"
    assert c.get("/api/v1/requests/").status_code == 200


def test_api_without_credentials_is_refused(api_client):
    assert api_client.post("/api/v1/auth/token/revoke/").status_code in (401, 403)


def test_oversized_api_bodies_get_413_before_parsing(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = api_client.post(
        "/api/v1/auth/token/", {"username": "x" * 200, "password": "y"}, format="json"
    )
    assert response.status_code == 413
    assert "limit is 100 bytes" in response.json()["detail"]


def test_the_openapi_schema_and_docs_are_served(client, make_user, password):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert "/api/v1/auth/token/" in response.content.decode()
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
