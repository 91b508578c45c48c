"""oversight: each consultation keeps the window minimums in force when it was created

A later change at /admin/settings changes the minimum window of consultations created after it
only. Existing consultations get the minimums in force at this upgrade: the values saved at
/admin/settings, else the configuration's, never below the statutory floors (SPEC §6).

Revision ID: 0012_oversight
Revises: 0009_find
Create Date: 2026-12-06 10:33:10.874277

"""
from alembic import op
import sqlalchemy as sa
from flask import current_app, has_app_context


# revision identifiers, used by Alembic.
revision = '0012_oversight'
down_revision = '0009_find'
branch_labels = None
depends_on = None

# As they were when this revision was written (consult/consultations/windows.py, consult/config.py).
STATUTORY_MIN_DAYS = {"rule": 30, "major_decision": 30, "normative_document": 7, "other": 1}
STATUTORY_BUSINESS_MIN_DAYS = 30
DEFAULT_MIN_DAYS = {"rule": 30, "major_decision": 30, "normative_document": 7, "other": 7}
DEFAULT_BUSINESS_MIN_DAYS = 30

settings = sa.table("settings", sa.column("key", sa.String), sa.column("value", sa.JSON))
consultations = sa.table("consultations", sa.column("window_minimums", sa.JSON))


def _in_force(conn) -> dict:
    """The minimums a consultation created now would get: saved settings over the
    configuration, never below the statutory floors."""
    config = current_app.config if has_app_context() else {}
    saved = dict(conn.execute(sa.select(settings.c.key, settings.c.value).where(
        settings.c.key.in_(["WINDOW_MIN_DAYS", "WINDOW_BUSINESS_MIN_DAYS"]))).all())
    per_type = saved.get("WINDOW_MIN_DAYS") or config.get("WINDOW_MIN_DAYS") or DEFAULT_MIN_DAYS
    business = saved.get("WINDOW_BUSINESS_MIN_DAYS") or config.get(
        "WINDOW_BUSINESS_MIN_DAYS") or DEFAULT_BUSINESS_MIN_DAYS
    days = {code: max(int(per_type.get(code, DEFAULT_MIN_DAYS[code])), floor)
            for code, floor in STATUTORY_MIN_DAYS.items()}
    days["business"] = max(int(business), STATUTORY_BUSINESS_MIN_DAYS)
    return days


def upgrade():
    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('window_minimums', sa.JSON(), nullable=True))

    conn = op.get_bind()
    conn.execute(consultations.update().values(window_minimums=_in_force(conn)))

    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.alter_column('window_minimums', existing_type=sa.JSON(), nullable=False)


def downgrade():
    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.drop_column('window_minimums')
