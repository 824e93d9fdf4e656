"""The production role of docs/sql/app-role.sql, on a real PostgreSQL: it runs the control
plane's writes, and may only read and append the audit trail."""

import re
import secrets
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from controlplane.audit.actors import Actor
from controlplane.audit.models import AuditEvent
from controlplane.audit.services import record_event

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "sql" / "app-role.sql"


def _statements(role):
    text = "\n".join(
        line for line in SCRIPT.read_text().splitlines() if not line.lstrip().startswith("--")
    )
    text = re.sub(r"\bcontrolplane_app\b", role, text)
    return [part.strip() for part in text.split(";") if part.strip()]


def test_the_documented_role_appends_to_the_trail_and_cannot_change_it(postgres, estate):
    role = f"cp_app_test_{secrets.token_hex(4)}"  # rolled back with the test's transaction
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role} NOLOGIN")
        for statement in _statements(role):
            cursor.execute(statement)
        cursor.execute(f"SET LOCAL ROLE {role}")
        try:
            record_event(actor=Actor.system("role-test"), action="test.as_app_role")
            cursor.execute("UPDATE regions_region SET name = name")  # ordinary writes work
            for statement in (
                "TRUNCATE audit_auditevent",
                "UPDATE audit_auditevent SET action = 'forged'",
                "DELETE FROM audit_auditevent",
                "CREATE TABLE sneaky (id int)",
            ):
                with pytest.raises(DatabaseError, match="permission denied"):
                    with transaction.atomic():
                        cursor.execute(statement)
        finally:
            cursor.execute("RESET ROLE")
    assert AuditEvent.objects.filter(action="test.as_app_role").exists()
