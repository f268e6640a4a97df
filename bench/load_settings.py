"""Settings of the bench's gunicorn: the project's own, plus the bare comparison view's URL."""

from assist_center.settings.base import *  # noqa: F403

ROOT_URLCONF = "bench.load_urls"
