"""The migration hashes the audit rows already there into one chain (the backfill), gives every
account a session stamp, and installs the append-only trigger."""

from __future__ import annotations

import pytest
from flask_migrate import upgrade
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from consult import create_app
from consult.extensions import db
from tests.test_migrations import empty_database_url  # noqa: F401  (the fixture)


def test_upgrade_chains_existing_audit_rows(empty_database_url, real_session):  # noqa: F811
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(revision="0002")
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO units (id, name, is_legal_office, created_at) "
                "VALUES (1, '市人社局', false, '2026-01-05 08:00:00')"))
            for n in (1, 2):
                conn.execute(text(
                    "INSERT INTO users (id, email, name, password_hash, is_admin, active, "
                    "created_at) VALUES (:n, :email, '甲', 'x', false, true, "
                    "'2026-01-05 08:00:00')"), {"n": n, "email": f"u{n}@example.org"})
            rows = [("2026-01-05 09:00:00.123456", "create", None, None),
                    ("2026-01-05 08:30:00", "edit", "改正错字", '{"字段": ["标题"], "n": 1}'),
                    ("2026-01-05 09:00:00.123456", "approve", None, '{"from": "pending"}')]
            for n, (at, action, reason, detail) in enumerate(rows, start=1):
                conn.execute(text(
                    "INSERT INTO audit_events (id, at, actor_id, action, object_type, object_id,"
                    " unit_id, reason, detail) VALUES (:id, :at, 1, :action, 'consultations', 1,"
                    " 1, :reason, :detail)"),
                    {"id": n, "at": at, "action": action, "reason": reason, "detail": detail})
        upgrade()
        from consult.audit import verify

        result = verify()
        assert result.intact and result.count == 3, result.problem
        with db.engine.connect() as conn:
            order = conn.execute(text("SELECT action FROM audit_events ORDER BY seq")).scalars()
            assert list(order) == ["edit", "create", "approve"]  # by time, then id
            stamps = conn.execute(text("SELECT session_stamp FROM users")).scalars().all()
            assert len(set(stamps)) == 2 and all(len(s) == 32 for s in stamps)
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.execute(text("UPDATE audit_events SET reason = 'x'"))
        db.session.remove()
        db.engine.dispose()
