from .funds import FundEntry
from .organisations import Organisation
from .projects import Project, ProjectCall, ProjectDecision, ProjectReport, Tranche
from .training import Attendance, Trainee, TrainingSession

__all__ = [
    "Attendance",
    "FundEntry",
    "Organisation",
    "Project",
    "ProjectCall",
    "ProjectDecision",
    "ProjectReport",
    "Trainee",
    "TrainingSession",
    "Tranche",
]
