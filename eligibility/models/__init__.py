from .monitoring import DiscoveryLead, MonitoringWarning
from .pool import ImportJob, PoolRecord
from .push import PushKey, PushRequest
from .reports import ItemDecision, VerificationReport
from .standards import Standard

__all__ = [
    "DiscoveryLead",
    "ImportJob",
    "ItemDecision",
    "MonitoringWarning",
    "PoolRecord",
    "PushKey",
    "PushRequest",
    "Standard",
    "VerificationReport",
]
