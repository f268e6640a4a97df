from .households import Household, Person
from .intake import (
    Application,
    ApplicationMember,
    AssistCode,
    Authorisation,
    Channel,
    IdempotencyRecord,
    NeedItem,
    OtpChallenge,
    OtpPurpose,
)
from .registry import RegistryEvent

__all__ = [
    "Application",
    "ApplicationMember",
    "AssistCode",
    "Authorisation",
    "Channel",
    "Household",
    "IdempotencyRecord",
    "NeedItem",
    "OtpChallenge",
    "OtpPurpose",
    "Person",
    "RegistryEvent",
]
