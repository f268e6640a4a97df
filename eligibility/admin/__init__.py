"""Admin of the data pool, standards, verification reports and decisions."""

from . import imports, monitoring, reports, standards  # noqa: F401
