"""The happiness list's models: one module per model family."""

from .ratings import IntegrityFlag, Level, LowRatingTask, Rating, RatingDispute  # noqa: F401
