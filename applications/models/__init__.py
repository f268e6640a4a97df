from .households import Household, Person
from .intake import (
    Application,
    AssistCode,
    ApplicationMember,
    Authorisation,
    Channel,
    IdempotencyRecord,
    NeedItem,
    OtpChallenge,
    OtpPurpose,
)

__all__ = [
    "Application",
    "AssistCode",
    "ApplicationMember",
    "Authorisation",
    "Channel",
    "Household",
    "IdempotencyRecord",
    "NeedItem",
    "OtpChallenge",
    "OtpPurpose",
    "Person",
]
