"""Admin of the data pool, standards, verification reports and decisions."""

from . import imports, monitoring, push, reports, standards  # noqa: F401
