"""hardened, the web and sign-in half: session stamps, login throttles, scoped idempotency keys,
the audit log's hash chain and its append-only triggers

Revision ID: 0004_sec_web
Revises: 0003_sec_content
Create Date: 2026-12-06 04:14:57.762143

"""
import hashlib
import json
import secrets
from datetime import UTC

from alembic import op
import sqlalchemy as sa

import consult.types


# revision identifiers, used by Alembic.
revision = '0004_sec_web'
down_revision = '0003_sec_content'
branch_labels = None
depends_on = None

GENESIS = "0" * 64

# Frozen copies of consult/audit.py's statements and canonical form as of this revision: the
# hashes written here must be the ones `flask --app app audit verify` recomputes.
PG_REFUSE_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_events_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = 'the audit log is append-only (' || TG_OP || ' refused)';
END;
$$ LANGUAGE plpgsql
"""
PG_REFUSE_TRIGGER = """
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change()
"""
SQLITE_REFUSE_TRIGGERS = [
    f"""
CREATE TRIGGER audit_events_no_{op_name.lower()} BEFORE {op_name} ON audit_events
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only ({op_name} refused)'); END
""" for op_name in ("UPDATE", "DELETE")
]

audit_events = sa.table(
    "audit_events",
    sa.column("id", sa.Integer),
    sa.column("at", consult.types.UTCDateTime(timezone=True)),
    sa.column("actor_id", sa.Integer),
    sa.column("action", sa.String),
    sa.column("object_type", sa.String),
    sa.column("object_id", sa.Integer),
    sa.column("unit_id", sa.Integer),
    sa.column("reason", sa.Text),
    sa.column("detail", sa.JSON),
    sa.column("seq", sa.Integer),
    sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String),
)


def _hash(row, seq, prev_hash):
    canonical = json.dumps({
        "seq": seq, "at": row.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": row.actor_id, "action": row.action, "object_type": row.object_type,
        "object_id": row.object_id, "unit_id": row.unit_id, "reason": row.reason,
        "detail": row.detail, "prev_hash": prev_hash,
    }, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(canonical).hexdigest()


def _chain_existing_rows(bind):
    """Hash the rows already there, oldest first, into one chain (the backfill)."""
    rows = bind.execute(sa.select(audit_events).order_by(audit_events.c.at,
                                                         audit_events.c.id)).all()
    values, previous = [], GENESIS
    for seq, row in enumerate(rows, start=1):
        digest = _hash(row, seq, previous)
        values.append({"_id": row.id, "_seq": seq, "_prev": previous, "_hash": digest})
        previous = digest
    if values:
        bind.execute(
            audit_events.update().where(audit_events.c.id == sa.bindparam("_id")).values(
                seq=sa.bindparam("_seq"), prev_hash=sa.bindparam("_prev"),
                hash=sa.bindparam("_hash")),
            values,
        )


def _stamp_every_row(bind, table_name):
    table = sa.table(table_name, sa.column("id", sa.Integer),
                     sa.column("session_stamp", sa.String))
    ids = bind.execute(sa.select(table.c.id)).scalars().all()
    if ids:
        bind.execute(table.update().where(table.c.id == sa.bindparam("_id"))
                     .values(session_stamp=sa.bindparam("_stamp")),
                     [{"_id": i, "_stamp": secrets.token_hex(16)} for i in ids])


def upgrade():
    bind = op.get_bind()
    op.create_table('login_throttles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('staff', 'citizen', name='login_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('scope', sa.Enum('account', 'client', name='throttle_scope', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('key', sa.String(length=254), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('first_failure_at', consult.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_failure_at', consult.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_throttles')),
    sa.UniqueConstraint('kind', 'scope', 'key', name='kind_scope_key')
    )
    with op.batch_alter_table('login_throttles', schema=None) as batch_op:
        batch_op.create_index('ix_login_throttles_last_failure_at', ['last_failure_at'], unique=False)

    # The audit chain: columns first, then every existing row hashed, then NOT NULL and UNIQUE,
    # then the triggers (last: the backfill is an UPDATE they would refuse).
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
    _chain_existing_rows(bind)
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.alter_column('seq', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_audit_events_seq'), ['seq'])
    if bind.dialect.name == "postgresql":
        op.execute(PG_REFUSE_FUNCTION)
        op.execute(PG_REFUSE_TRIGGER)
    elif bind.dialect.name == "sqlite":
        for statement in SQLITE_REFUSE_TRIGGERS:
            op.execute(statement)

    # Session stamps: every account gets one (sessions made before this release end).
    for table_name in ('citizens', 'users'):
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.add_column(sa.Column('session_stamp', sa.String(length=32), nullable=True))
        _stamp_every_row(bind, table_name)
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.alter_column('session_stamp', existing_type=sa.String(length=32),
                                  nullable=False)

    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idempotency_fingerprint', sa.String(length=64), nullable=True))


def downgrade():
    bind = op.get_bind()
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_stamp')

    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_column('idempotency_fingerprint')

    with op.batch_alter_table('citizens', schema=None) as batch_op:
        batch_op.drop_column('session_stamp')

    if bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_refuse_change()")
    elif bind.dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_events_seq'), type_='unique')
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('seq')

    with op.batch_alter_table('login_throttles', schema=None) as batch_op:
        batch_op.drop_index('ix_login_throttles_last_failure_at')

    op.drop_table('login_throttles')
