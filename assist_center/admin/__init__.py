"""Admin registrations of the core, one module per area."""

from . import calendar, core, messaging  # noqa: F401
