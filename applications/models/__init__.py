from .access import AccessPurpose, HouseholdAccess
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
    "AccessPurpose",
    "Application",
    "ApplicationMember",
    "AssistCode",
    "Authorisation",
    "Channel",
    "Household",
    "HouseholdAccess",
    "IdempotencyRecord",
    "NeedItem",
    "OtpChallenge",
    "OtpPurpose",
    "Person",
    "RegistryEvent",
]
