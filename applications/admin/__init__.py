"""Admin of intake: households and persons, applications, assist codes (one module each)."""

from . import application, assist_codes, households  # noqa: F401
