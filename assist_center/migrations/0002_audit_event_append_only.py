from django.db import migrations

# The audit log is evidence: refuse UPDATE and DELETE in the database itself, so that neither a
# bug nor a QuerySet.update()/delete() in application code can rewrite history. TRUNCATE stays
# possible: it is an operator's deliberate act (and how the test runner resets the database).
FORWARD = """
CREATE OR REPLACE FUNCTION assist_center_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'assist_center_auditevent is append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER assist_center_auditevent_append_only
BEFORE UPDATE OR DELETE ON assist_center_auditevent
FOR EACH ROW EXECUTE FUNCTION assist_center_audit_append_only();
"""

REVERSE = """
DROP TRIGGER IF EXISTS assist_center_auditevent_append_only ON assist_center_auditevent;
DROP FUNCTION IF EXISTS assist_center_audit_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("assist_center", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, REVERSE)]
