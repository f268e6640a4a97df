"""Admin of the data pool, standards, verification reports and decisions."""

from . import imports, reports, standards  # noqa: F401
