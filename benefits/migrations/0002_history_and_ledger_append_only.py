from django.db import migrations

# The roll's history and the ledger are evidence (issue 10: "history is kept; nothing is edited in
# place"): the database itself refuses what save() already refuses, so that neither a bug nor a
# QuerySet.update()/delete() nor a hand-typed statement can rewrite them, like the audit log
# (assist_center 0002).
#
# - An enrolment event is never updated or deleted.
# - A ledger entry is never deleted. It is updated in one case only: a department's corrected
#   payment file rewrites the rows whose content changed (eligibility.services.payments upserts on
#   the department's own payment id), so an UPDATE of a payment-file row that keeps its key, its
#   source and its creation time passes; every other UPDATE (a month of an enrolment, a referral
#   outcome, a charity completion, or a payment row re-keyed) is refused.
#
# TRUNCATE stays possible: an operator's deliberate act, and how the test runner resets tables.
FORWARD = """
CREATE OR REPLACE FUNCTION benefits_enrolmentevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'benefits_enrolmentevent is append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER benefits_enrolmentevent_append_only
BEFORE UPDATE OR DELETE ON benefits_enrolmentevent
FOR EACH ROW EXECUTE FUNCTION benefits_enrolmentevent_append_only();

CREATE OR REPLACE FUNCTION benefits_benefitentry_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND OLD.source = 'payment_file'
       AND NEW.source = OLD.source
       AND NEW.source_key = OLD.source_key
       AND NEW.created_at = OLD.created_at THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'benefits_benefitentry is append-only: only a corrected payment file updates its own rows';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER benefits_benefitentry_append_only
BEFORE UPDATE OR DELETE ON benefits_benefitentry
FOR EACH ROW EXECUTE FUNCTION benefits_benefitentry_append_only();
"""

REVERSE = """
DROP TRIGGER IF EXISTS benefits_benefitentry_append_only ON benefits_benefitentry;
DROP FUNCTION IF EXISTS benefits_benefitentry_append_only();
DROP TRIGGER IF EXISTS benefits_enrolmentevent_append_only ON benefits_enrolmentevent;
DROP FUNCTION IF EXISTS benefits_enrolmentevent_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("benefits", "0001_rolls_ledger_tasks")]

    operations = [migrations.RunSQL(FORWARD, REVERSE)]
