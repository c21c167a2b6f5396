"""Development and demo profile: embedded SQLite, debug pages, a fixed local secret."""

from .base import *  # noqa: F403
from .base import env_list

DEBUG = True
SECRET_KEY = os.environ.get("SECRET_KEY") or "dev-only-insecure-key-do-not-use-in-production"  # noqa: F405
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")

# WhiteNoise expects the collected-static folder to exist even when runserver serves the files.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
