from .claims import Claim, ClaimUpdate, EvidencePhoto
from .funds import FundEntry
from .needs import AgeBand, Need, PublicReport, SizeBand
from .organisations import Category, Organisation
from .projects import Project, ProjectCall, ProjectDecision, ProjectReport, Tranche
from .training import Attendance, Trainee, TrainingSession

__all__ = [
    "AgeBand",
    "Attendance",
    "Category",
    "Claim",
    "ClaimUpdate",
    "EvidencePhoto",
    "FundEntry",
    "Need",
    "Organisation",
    "Project",
    "ProjectCall",
    "ProjectDecision",
    "ProjectReport",
    "PublicReport",
    "SizeBand",
    "Trainee",
    "TrainingSession",
    "Tranche",
]
