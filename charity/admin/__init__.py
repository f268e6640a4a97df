"""The charity admin: one module per model family, registered on import."""

from . import organisations  # noqa: F401
