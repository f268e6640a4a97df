"""Intake API under /api/v1/: the public resident endpoints and the scoped staff endpoints."""



urlpatterns: list = []  # type: ignore[type-arg]
