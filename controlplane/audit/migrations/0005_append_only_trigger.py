"""PostgreSQL itself refuses UPDATE and DELETE on the audit table, whoever asks.

The ORM already refuses (models.AuditEventQuerySet); this catches raw SQL, a shell, a bug in a
later migration. One statement-level trigger, so even a DELETE that matches no row is refused.
TRUNCATE is left to privileges: Django's test runner empties tables with TRUNCATE, and the
production role (docs/configuration.md, "A least-privileged database role") has none.
The database's owner can drop the trigger; what protects the trail against them is the keyed
chain and the checkpoint outside the database. SQLite (make run) gets no trigger.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_auditevent_append_only
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
"""

DROP = """
DROP TRIGGER IF EXISTS audit_auditevent_append_only ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_refuse_change();
"""


def on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_event_key_id")]
    operations = [migrations.RunPython(on_postgresql(CREATE), on_postgresql(DROP))]
