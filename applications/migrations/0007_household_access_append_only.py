from django.db import migrations

# The access log is evidence for the resident: refuse UPDATE and DELETE in the database itself,
# like the audit log (assist_center 0002). TRUNCATE stays possible (the test runner's reset).
FORWARD = """
CREATE OR REPLACE FUNCTION applications_household_access_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'applications_householdaccess is append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER applications_householdaccess_append_only
BEFORE UPDATE OR DELETE ON applications_householdaccess
FOR EACH ROW EXECUTE FUNCTION applications_household_access_append_only();
"""

REVERSE = """
DROP TRIGGER IF EXISTS applications_householdaccess_append_only ON applications_householdaccess;
DROP FUNCTION IF EXISTS applications_household_access_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("applications", "0006_household_access")]

    operations = [migrations.RunSQL(FORWARD, REVERSE)]
