"""Secrets at rest: backend credentials as Fernet tokens under keys from the environment.

``CREDENTIALS_KEYS`` holds Fernet keys, comma-separated, newest first.
MultiFernet encrypts with the first and decrypts with any, so a key rotates
in three steps: put the new key first, run ``manage.py rotate_credentials``
(re-encrypts every stored secret with it), then drop the old key.

Nothing here logs or echoes a secret or a key: errors name the setting and
the position of a bad key, never its value.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class CredentialsError(RuntimeError):
    """A stored secret cannot be read: its key is gone, or the token was altered."""


def credentials_configured() -> bool:
    return bool(_keys())


def credentials_encrypt(plaintext: str) -> str:
    """A Fernet token (URL-safe base64 text) for ``plaintext``, under the newest key."""
    return _cipher(_keys()).encrypt(plaintext.encode("utf-8")).decode("ascii")


def credentials_decrypt(token: str) -> str:
    try:
        return _cipher(_keys()).decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise CredentialsError(
            "stored credentials cannot be decrypted with any key in CREDENTIALS_KEYS "
            "(was a key removed before `manage.py rotate_credentials` ran?)"
        ) from None


def credentials_rotate(token: str) -> str:
    """The same secret re-encrypted under the newest key (a no-op for the secret itself)."""
    try:
        return _cipher(_keys()).rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken:
        raise CredentialsError(
            "stored credentials cannot be decrypted with any key in CREDENTIALS_KEYS; "
            "put the key they were written with back (after the new one) and rotate again"
        ) from None


def _keys() -> tuple[str, ...]:
    return tuple(k.strip() for k in getattr(settings, "CREDENTIALS_KEYS", []) if k.strip())


@lru_cache(maxsize=4)
def _cipher(keys: Sequence[str]) -> MultiFernet:
    # Cached per key list: building Fernets is cheap but done per secret read,
    # and tests change the keys with override_settings.
    if not keys:
        raise ImproperlyConfigured(
            "CREDENTIALS_KEYS is empty: backend credentials cannot be stored or read. "
            "Generate a key with `python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'` and set CREDENTIALS_KEYS to it."
        )
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError):
            raise ImproperlyConfigured(
                f"CREDENTIALS_KEYS entry {position} of {len(keys)} is not a Fernet key "
                "(32 url-safe base64-encoded bytes)"
            ) from None
    return MultiFernet(fernets)
