from .audit import AuditEvent
from .audit_archive import AuditArchiveBatch
from .calendar import CalendarDay, CalendarYear
from .departments import Department
from .outbox import OutboxMessage
from .regions import Region
from .sessions import StaffSession
from .sms import SmsMessage
from .staff import Role, StaffProfile

__all__ = [
    "AuditArchiveBatch",
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
