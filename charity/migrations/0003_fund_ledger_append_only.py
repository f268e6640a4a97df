from django.db import migrations

# The fund ledger is public evidence (2026 disclosure rules): refuse UPDATE and DELETE in the
# database itself, like the audit log (assist_center 0002), so that no bug, admin action or
# QuerySet.update() can rewrite a line; a correction is a new entry pointing at the old one.
# TRUNCATE stays possible: an operator's deliberate act, and how the test runner resets tables.
FORWARD = """
CREATE OR REPLACE FUNCTION charity_fundentry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'charity_fundentry is append-only: record a correction instead';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER charity_fundentry_append_only
BEFORE UPDATE OR DELETE ON charity_fundentry
FOR EACH ROW EXECUTE FUNCTION charity_fundentry_append_only();
"""

REVERSE = """
DROP TRIGGER IF EXISTS charity_fundentry_append_only ON charity_fundentry;
DROP FUNCTION IF EXISTS charity_fundentry_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("charity", "0002_funds_projects_training")]

    operations = [migrations.RunSQL(FORWARD, REVERSE)]
