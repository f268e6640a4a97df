from django.db import migrations

# The archive's index is evidence like the events: no UPDATE or DELETE (the function of 0002
# raises for any table it is attached to).
FORWARD = """
CREATE TRIGGER assist_center_auditarchivebatch_append_only
BEFORE UPDATE OR DELETE ON assist_center_auditarchivebatch
FOR EACH ROW EXECUTE FUNCTION assist_center_audit_append_only();
"""

REVERSE = (
    "DROP TRIGGER IF EXISTS assist_center_auditarchivebatch_append_only ON assist_center_auditarchivebatch;"
)


class Migration(migrations.Migration):
    dependencies = [("assist_center", "0006_audit_archive_batch")]

    operations = [migrations.RunSQL(FORWARD, REVERSE)]
