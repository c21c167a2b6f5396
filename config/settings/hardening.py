"""What production refuses to start with: a guessable SECRET_KEY or a Host header accepted from anywhere.

Pure functions (no Django import) so the settings module and the tests share them. Each returns the
problem in words, or None.
"""

from __future__ import annotations

from collections.abc import Sequence

MIN_SECRET_LENGTH = 50
MIN_SECRET_DISTINCT = 20  # secrets.token_urlsafe(64) has ~55; a repeated letter or a short word pattern has few


def secret_key_problem(key: str) -> str | None:
    if len(key) < MIN_SECRET_LENGTH:
        return f"SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters (it has {len(key)})."
    if len(set(key)) < MIN_SECRET_DISTINCT:
        return (
            f"SECRET_KEY has only {len(set(key))} distinct characters (at least {MIN_SECRET_DISTINCT}): "
            "generate one, e.g. python -c 'import secrets; print(secrets.token_urlsafe(64))'."
        )
    if key.startswith("django-insecure-") or "insecure" in key.lower():
        return "SECRET_KEY is a development key."
    return None


def allowed_hosts_problem(hosts: Sequence[str]) -> str | None:
    if not hosts:
        return "ALLOWED_HOSTS must be set (comma-separated host names)."
    wild = [h for h in hosts if "*" in h or h.strip() in ("", ".")]
    if wild:
        return f"ALLOWED_HOSTS must name the hosts served, not wildcards ({', '.join(repr(h) for h in wild)})."
    return None
