"""The audit log is tamper-evident (SECURITY.md): a hash chain that `audit verify` walks, appends
serialised, UPDATE and DELETE refused by the database, and no personal data in the rows."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from consult import audit
from consult.audit import GENESIS, AuditEvent, row_hash
from consult.extensions import db


@pytest.fixture
def events(make):
    """A few audit rows, made the way the app makes them (record, and a bulk writer)."""
    editor = make.user("editor")
    c = make.consultation("draft", unit=editor.memberships[0].unit)
    audit.record(editor, "create", c)
    audit.record(editor, "edit", c, reason="改正错字", detail={"字段": ["标题"], "n": 1.5})
    db.session.add_all([AuditEvent(action="answer", object_type="comments", object_id=n,
                                   detail={"bulk": True}) for n in (7, 8)])
    db.session.flush()
    return db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.seq)).all()


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=["audit", "verify", *args])


def test_each_row_carries_the_previous_rows_hash_and_its_own(events):
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[0].prev_hash == GENESIS
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev_hash == before.hash
    db.session.expire_all()  # read back from the database: the hashes still hold
    for entry in db.session.scalars(db.select(AuditEvent)):
        assert entry.hash == row_hash(entry)


def test_verify_says_the_chain_is_intact(app, events):
    result = _cli(app)
    assert result.exit_code == 0, result.output
    assert f"intact: {len(events)} events" in result.output


def _without_guard(sql: str, **params) -> None:
    """Tamper as an attacker with the database password would: past the ORM and the trigger."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        connection.execute(text(sql), params)
        connection.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
    else:
        for op in ("update", "delete"):
            connection.execute(text(f"DROP TRIGGER audit_events_no_{op}"))
        connection.execute(text(sql), params)
    db.session.expire_all()


def test_a_changed_row_is_found(app, events):
    _without_guard("UPDATE audit_events SET reason = '无' WHERE id = :id", id=events[1].id)
    result = _cli(app)
    assert result.exit_code == 1
    assert f"broken at event {events[1].id} (sequence 2" in result.output
    assert "content does not match" in result.output


def test_a_removed_row_is_found(app, events):
    _without_guard("DELETE FROM audit_events WHERE id = :id", id=events[1].id)
    result = _cli(app)
    assert result.exit_code == 1
    assert f"broken at event {events[2].id} (sequence 3" in result.output


def test_a_rewritten_chain_end_is_found(app, events):
    """Changing a row and recomputing its own hash still breaks the next row's link."""
    entry = events[1]
    entry.reason = "无"
    new_hash = row_hash(entry)
    db.session.expire(entry)
    _without_guard("UPDATE audit_events SET reason = '无', hash = :h WHERE id = :id",
                   h=new_hash, id=entry.id)
    result = _cli(app)
    assert result.exit_code == 1
    assert f"broken at event {events[2].id} (sequence 3" in result.output
    assert "previous-row hash" in result.output


@pytest.mark.parametrize("sql", ["UPDATE audit_events SET reason = 'x' WHERE id = :id",
                                 "DELETE FROM audit_events WHERE id = :id"])
def test_the_database_refuses_update_and_delete(events, sql):
    with pytest.raises(DBAPIError, match="append-only"), db.session.begin_nested():
        db.session.execute(text(sql), {"id": events[0].id})
    assert db.session.get(AuditEvent, events[0].id) is not None


def test_the_orm_refuses_changes_too(events):
    events[0].reason = "改"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()


def test_appends_take_the_advisory_lock_on_postgresql(events, monkeypatch):
    statements = []
    connection = db.session.connection()
    monkeypatch.setattr(type(connection), "execute", _spy(type(connection).execute, statements))
    audit.record(None, "purge_contact_data", events[0])
    db.session.flush()
    locks = [s for s in statements if "pg_advisory_xact_lock" in s]
    if connection.dialect.name == "postgresql":
        assert locks
    else:  # SQLite's write transactions are serial already
        assert not locks


def _spy(real, seen):
    def execute(self, statement, *args, **kwargs):
        seen.append(str(statement))
        return real(self, statement, *args, **kwargs)

    return execute


def test_two_appends_never_share_a_place_in_the_chain(events):
    """The unique sequence number is the backstop against a fork."""
    from sqlalchemy.exc import IntegrityError

    last = events[-1]
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.execute(db.insert(AuditEvent).values(
            at=last.at, action="fork", object_type="comments", object_id=1,
            seq=last.seq, prev_hash=last.prev_hash, hash=last.hash))


def test_concurrent_appends_on_postgresql_wait_for_each_other(app):
    """Two transactions append at once: the second waits for the first's commit, then takes
    the next place. Runs in a schema of its own, as it commits."""
    import threading
    import uuid

    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session
    from sqlalchemy.pool import NullPool

    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite's write transactions are serial already")
    # An engine of its own: its connections' search_path must not go back to the app's pool.
    engine = create_engine(db.engine.url, poolclass=NullPool)
    schema = f"audit_race_{uuid.uuid4().hex[:8]}"
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    connections = []
    try:
        def connect():
            connection = engine.connect()
            connection.execute(text(f'SET search_path TO "{schema}"'))
            connection.commit()
            connections.append(connection)
            return connection

        setup = connect()
        db.metadata.create_all(setup)
        setup.commit()
        first_flushed, first_may_commit = threading.Event(), threading.Event()
        seqs, errors = {}, []

        def append(name, before_commit=None):
            try:
                session = Session(bind=connect())
                session.add(AuditEvent(action=name, object_type="comments", object_id=1))
                session.flush()
                seqs[name] = session.scalar(db.select(AuditEvent.seq).where(
                    AuditEvent.action == name))
                if before_commit:
                    before_commit()
                session.commit()
            except Exception as error:  # reported below
                errors.append(error)

        def hold():
            first_flushed.set()
            first_may_commit.wait(timeout=30)

        one = threading.Thread(target=append, args=("first", hold))
        one.start()
        assert first_flushed.wait(timeout=30)
        two = threading.Thread(target=append, args=("second",))
        two.start()
        two.join(timeout=1)
        assert two.is_alive()  # waiting for the lock the first append holds
        first_may_commit.set()
        one.join(timeout=30)
        two.join(timeout=30)
        assert not errors, errors
        assert (seqs["first"], seqs["second"]) == (1, 2)
        rows = setup.execute(text("SELECT seq, prev_hash, hash FROM audit_events ORDER BY seq"))
        rows = rows.all()
        assert rows[1].prev_hash == rows[0].hash and rows[0].prev_hash == GENESIS
    finally:
        for connection in connections:
            connection.close()
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def test_audit_rows_hold_ids_not_personal_data(make):
    """Names, notes to authors and file names stay in their own (erasable) tables."""
    import io

    from werkzeug.datastructures import FileStorage

    from consult import clock
    from consult.comments import moderation
    from consult.hearings import services as hearings

    approver = make.user("approver")
    c = make.consultation("open", unit=approver.memberships[0].unit)
    hearing = hearings.create_hearing(c, hearings.HearingInput(
        kind="hearing", title="听证会", held_at=clock.now(), place="会议室"), actor=approver)
    person = hearings.add_participant(hearing, name="王小明", affiliation="某公司",
                                      category="individual", actor=approver)
    hearings.remove_participant(person, actor=approver)
    hearings.attach_file(hearing, FileStorage(io.BytesIO(b"%PDF-1.4 x"),
                                              filename="王小明的发言.pdf"), "notice",
                         actor=approver)
    comment = make.comment(c, body="意见")
    note = "您的意见含有电话13912345678，已不予公开。王小明"
    moderation.hide_comment(comment, "personal_data", note, actor=approver)
    moderation.unhide_comment(comment, actor=approver, note="经复核，可以公开。")  # staff's why
    db.session.flush()
    rows = db.session.scalars(db.select(AuditEvent)).all()
    assert {"add_hearing_participant", "remove_hearing_participant", "attach_hearing_file",
            "hide_comment", "unhide_comment"} <= {r.action for r in rows}
    stored = " ".join(f"{r.reason} {r.detail}" for r in rows)
    for personal in ("王小明", "13912345678", "某公司"):
        assert personal not in stored
    added = next(r for r in rows if r.action == "add_hearing_participant")
    assert added.detail == {"participant_id": person.id}


def test_erasing_a_citizen_leaves_the_chain_intact(app, make, events):
    from consult.citizens import services as citizens

    citizen = make.citizen("erase.me@example.net", display_name="赵六")
    c = make.consultation("open")
    make.comment(c, body="我的意见", email="erase.me@example.net", display_name="赵六",
                 citizen_id=citizen.id)
    citizens.erase_account(citizen)
    db.session.flush()
    result = _cli(app)
    assert result.exit_code == 0, result.output
