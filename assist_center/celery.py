"""The Celery app: JSON only, settings under CELERY_*, tasks found in each app's tasks.py."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "assist_center.settings.base")

app = Celery("assist_center")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
