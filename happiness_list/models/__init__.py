"""The happiness list's models: one module per model family."""

from .cards import Guardian, HappinessCard  # noqa: F401
from .flags import FlagCheckRun, ListFlag  # noqa: F401
from .list_problems import EntryProblem  # noqa: F401
from .ratings import IntegrityFlag, Level, LowRatingTask, Rating, RatingDispute  # noqa: F401
from .receipts import ReceiptCheck, ReceiptSampleRun  # noqa: F401
