from .audit import AuditEvent
from .calendar import CalendarDay, CalendarYear
from .departments import Department
from .outbox import OutboxMessage
from .regions import Region
from .sessions import StaffSession
from .sms import SmsMessage
from .staff import Role, StaffProfile

__all__ = [
    "AuditEvent",
    "CalendarDay",
    "CalendarYear",
    "Department",
    "OutboxMessage",
    "Region",
    "Role",
    "SmsMessage",
    "StaffProfile",
    "StaffSession",
]
