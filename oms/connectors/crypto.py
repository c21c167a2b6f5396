"""Shop credentials at rest: Fernet (AES-128-CBC + HMAC-SHA256) with keys from the environment.

``OMS_CONNECTORS_KEYS`` (setting and environment variable) holds one or more Fernet keys, comma-separated,
newest first: the first encrypts, all decrypt, so a key is rotated by prepending the new one and running
``oms connectors rotate-keys`` (re-encrypts every shop's credentials under it).
Without it a key is derived from SECRET_KEY (itself from the environment; production refuses to start
without one), so credentials are never written in clear text; a separate key lets SECRET_KEY rotate alone.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from oms.core.errors import ApplicationError


class CredentialsUnreadable(ApplicationError):
    code: str = "credentials_unreadable"


def _keys() -> list[bytes]:
    configured = [k.strip() for k in settings.OMS_CONNECTORS_KEYS.split(",") if k.strip()]
    if configured:
        return [k.encode() for k in configured]
    derived = hashlib.sha256(f"oms.connectors.credentials:{settings.SECRET_KEY}".encode()).digest()
    return [base64.urlsafe_b64encode(derived)]


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(k) for k in _keys()])


def secret_seal(plain: str) -> str:
    """Encrypt one credential; the empty string stays empty (not set)."""
    return _fernet().encrypt(plain.encode()).decode() if plain else ""


def secret_open(sealed: str) -> str:
    if not sealed:
        return ""
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise CredentialsUnreadable(
            "The shop's credentials cannot be decrypted with the configured keys (OMS_CONNECTORS_KEYS).",
        ) from None


def secret_reseal(sealed: str) -> str:
    """Re-encrypt under the newest key (key rotation)."""
    return _fernet().rotate(sealed.encode()).decode() if sealed else ""
