"""sqlite count trigger (issue 8): on SQLite a comment inserted is counted by the database, in
the INSERT's own statement (consult/comments/counts.py `SQLITE_TRIGGER`), not by a second
statement of each comment POST. The counts already there are right: the trigger counts only
what is inserted from now on. PostgreSQL: nothing changes (its INSERT counts in its WITH).

Revision ID: 0015_sqlite_count_trigger
Revises: 0014_comment_indexes
Create Date: 2026-12-07 00:50:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0015_sqlite_count_trigger'
down_revision = '0014_comment_indexes'
branch_labels = None
depends_on = None

TRIGGER = (
    "CREATE TRIGGER IF NOT EXISTS comments_counted AFTER INSERT ON comments BEGIN "
    "INSERT INTO comment_counts (consultation_id, version_id, article_id, status, shard, n) "
    "VALUES (NEW.consultation_id, 0, 0, NEW.status, 0, 1), "
    "(NEW.consultation_id, coalesce(NEW.version_id, 0), coalesce(NEW.article_id, 0), '*', 0, 1)"
    " ON CONFLICT (consultation_id, version_id, article_id, status, shard) "
    "DO UPDATE SET n = comment_counts.n + excluded.n; END"
)


def upgrade():
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(TRIGGER)


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('DROP TRIGGER IF EXISTS comments_counted')
