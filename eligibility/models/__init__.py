from .monitoring import DiscoveryLead, MonitoringWarning
from .pool import ImportJob, PoolRecord
from .province import ProvinceCheck
from .push import PushKey, PushRequest
from .reports import ItemDecision, VerificationReport
from .standards import Standard

__all__ = [
    "DiscoveryLead",
    "ImportJob",
    "ItemDecision",
    "MonitoringWarning",
    "PoolRecord",
    "ProvinceCheck",
    "PushKey",
    "PushRequest",
    "Standard",
    "VerificationReport",
]
