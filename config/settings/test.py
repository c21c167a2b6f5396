"""Test profile: the dev profile with fast hashing. DATABASE_URL picks SQLite or PostgreSQL."""

from .dev import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AXES_ENABLED = os.environ.get("AXES_ENABLED", "1") == "1"  # noqa: F405
ALLOWED_HOSTS = ["*"]
OMS = {**OMS, "UNPAID_TIMEOUT_MINUTES": 30}  # noqa: F405

# pytest captures log records itself; a stream handler would write to streams pytest has closed.
LOGGING = {**LOGGING, "handlers": {"console": {"class": "logging.NullHandler"}}}  # noqa: F405

# Paid orders are reviewed at once in tests (the post-payment buffer is for merging in real life).
OMS_FULFILMENT = {**OMS_FULFILMENT, "REVIEW_BUFFER_MINUTES": 0}  # noqa: F405
# Platform retries wait milliseconds in tests (the simulator injects rate limits and timeouts).
OMS_CONNECTORS = {**OMS_CONNECTORS, "BACKOFF_BASE_S": 0.01, "BACKOFF_CAP_S": 0.05, "HTTP_TIMEOUT_S": 2.0}  # noqa: F405

# Exports run in the request in tests (a thread would not see the test's uncommitted rows).
OMS_EXPORTS = {**OMS_EXPORTS, "RUNNER": "inline"}  # noqa: F405
