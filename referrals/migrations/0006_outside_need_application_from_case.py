"""Fill the new OutsidePolicyNeed.application from the case of every need kept so far."""

from typing import Any

from django.db import migrations
from django.db.models import OuterRef, Subquery


def forwards(apps: Any, schema_editor: Any) -> None:
    Need = apps.get_model("referrals", "OutsidePolicyNeed")
    Case = apps.get_model("referrals", "Case")
    Need.objects.filter(application__isnull=True, case__isnull=False).update(
        application_id=Subquery(Case.objects.filter(pk=OuterRef("case_id")).values("application_id")[:1])
    )


def backwards(apps: Any, schema_editor: Any) -> None:
    # The previous schema has no such column: nothing to undo beyond dropping it.
    pass


class Migration(migrations.Migration):
    dependencies = [("referrals", "0005_outside_need_on_the_application")]

    operations = [migrations.RunPython(forwards, backwards)]
