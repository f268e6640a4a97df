"""The rolls, their history, the ledger, roll tasks and township contacts in the admin.

Scoped like every ScopedModelAdmin (a township's assistant sees the township's, a village cadre the
village's, read-only; departments and organisations nothing). The rolls, their history and the
ledger are never edited through a stock form: an enrolment moves only through
benefits.services.enrolments (the state page here asks for the reason and calls it), and roll tasks
close through benefits.services.roll_tasks. Township contacts are configuration, audited.
"""

from .contacts import TownshipContactAdmin
from .ledger import BenefitEntryAdmin
from .rolls import EnrolmentAdmin, EnrolmentEventAdmin
from .tasks import RollTaskAdmin

__all__ = [
    "BenefitEntryAdmin",
    "EnrolmentAdmin",
    "EnrolmentEventAdmin",
    "RollTaskAdmin",
    "TownshipContactAdmin",
]
