"""The charity admin: one module per model family, registered on import."""

from . import organisations, reports  # noqa: F401
