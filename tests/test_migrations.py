"""Alembic migrations build the same schema as the models, from empty, on both databases."""

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from consult import create_app
from consult.extensions import db
from consult.search.models import include_object


@pytest.fixture
def empty_database_url(tmp_path):
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    base = url.replace("postgresql://", "postgresql+psycopg://", 1)
    name = f"consult_migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_upgrade_from_empty_matches_the_models_and_downgrades(empty_database_url,
                                                               real_session):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "render_as_batch": True,
                            "include_object": include_object}
            )
            assert compare_metadata(context, db.metadata) == []
        downgrade(revision="base")
        upgrade()
        db.session.remove()
        db.engine.dispose()


SKELETON = "7a2361533981"  # the walking skeleton's schema


def test_upgrade_keeps_a_skeleton_database_with_data(empty_database_url,
                                                       real_session):
    """A database made by the first release, with data in it, upgrades to head without loss."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(revision=SKELETON)
        now = "2026-01-05 08:00:00"
        statements = [
            "INSERT INTO units (id, name, is_legal_office, created_at) "
            "VALUES (1, '市人社局', false, :now)",
            "INSERT INTO users (id, email, name, password_hash, is_admin, active, created_at) "
            "VALUES (1, 'a@example.org', '甲', 'x', false, true, :now)",
            "INSERT INTO memberships (id, user_id, unit_id, role) VALUES (1, 1, 1, 'approver')",
            "INSERT INTO consultations (id, title, type, unit_id, summary, explanation, state, "
            "opens_at, closes_at, verification, moderation, created_at, updated_at) VALUES "
            "(1, '就业补贴办法（征求意见稿）', 'normative_document', 1, '摘要', '说明', "
            "'scheduled', "
            "'2026-01-01 00:00:00', '2026-01-31 15:59:59', 'none', 'post', :now, :now)",
            "INSERT INTO draft_versions (id, consultation_id, number, created_at) "
            "VALUES (1, 1, 1, :now)",
            "INSERT INTO articles (id, version_id, number, label, text) "
            "VALUES (1, 1, 1, '第一条', '为了促进就业，制定本办法。')",
            "INSERT INTO comments (id, tracking_no, consultation_id, version_id, article_id, body, "
            "category, channel, publish_name, notify, status, created_at, received_at) VALUES "
            "(1, 'ZX26-7K3M-9QXD', 1, 1, 1, '建议提高补贴标准。', 'individual', 'web', "
            "false, true, "
            "'published', :now, :now)",
            "INSERT INTO dispositions (id, comment_id, code, reason, answered_by_id, answered_at) "
            "VALUES (1, 1, 'not_adopted', '已有规定。', 1, :now)",
        ]
        with db.engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement), {"now": now})
        upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT body FROM comments")).scalar() == "建议提高补贴标准。"
            assert conn.execute(text("SELECT reason FROM dispositions")).scalar() == "已有规定。"
            assert conn.execute(text("SELECT count(*) FROM articles")).scalar() == 1
            assert conn.execute(text("SELECT title FROM consultations")).scalar().startswith("就业")
        from consult.comments.models import Comment
        from consult.consultations.models import Consultation

        comment = db.session.get(Comment, 1)
        assert comment.disposition.reason == "已有规定。"
        assert db.session.get(Consultation, 1).current_version.articles[0].label == "第一条"
        db.session.remove()
        db.engine.dispose()


def test_upgrade_backfills_when_each_report_was_first_published(empty_database_url,
                                                                 real_session):
    """0003_house: a consultation whose report has two revisions is known as reported since the
    first; one without a published report is not reported."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(revision="0003_sec_content")
        now = "2026-03-01 08:00:00"
        statements = [
            "INSERT INTO units (id, name, is_legal_office, created_at) "
            "VALUES (1, '市人社局', false, :now)",
        ] + [
            "INSERT INTO consultations (id, title, type, unit_id, summary, explanation, state, "
            "opens_at, closes_at, verification, moderation, concerns_business, created_at, "
            f"updated_at) VALUES ({i}, '办法{i}', 'rule', 1, '', '', '{state}', "
            "'2026-01-01 00:00:00', '2026-01-31 15:59:59', 'none', 'post', false, :now, :now)"
            for i, state in ((1, "report_published"), (2, "scheduled"))
        ] + [
            "INSERT INTO reports (id, consultation_id, revision, summary, published_at, "
            f"created_at) VALUES ({i}, {c}, {rev}, '', {at}, :now)"
            for i, c, rev, at in ((1, 1, 1, "'2026-02-10 02:00:00'"),
                                  (2, 1, 2, "'2026-02-20 02:00:00'"),
                                  (3, 2, 1, "NULL"))  # a draft revision: not published
        ]
        with db.engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement), {"now": now})
        upgrade()
        from consult.consultations.models import Consultation

        reported, waiting = db.session.get(Consultation, 1), db.session.get(Consultation, 2)
        assert reported.report_published
        assert reported.report_published_at.isoformat() == "2026-02-10T02:00:00+00:00"
        assert not waiting.report_published and waiting.report_published_at is None
        db.session.remove()
        db.engine.dispose()


NOW = "2026-03-01 08:00:00"


def _run(*statements: str) -> None:
    with db.engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement), {"now": NOW})


def _a_consultation(state: str = "scheduled") -> None:
    """A unit, its consultation 1 (approved unless a draft) and its version 1, written as the
    schema of 0003_house takes them."""
    approved = "NULL" if state == "draft" else ":now"
    _run("INSERT INTO units (id, name, is_legal_office, created_at) "
         "VALUES (1, '市人社局', false, :now)",
         "INSERT INTO consultations (id, title, type, unit_id, summary, explanation, state, "
         "opens_at, closes_at, verification, moderation, concerns_business, created_at, "
         f"updated_at, approved_at) VALUES (1, '办法', 'rule', 1, '', '', '{state}', "
         "'2026-01-01 00:00:00', '2026-12-31 15:59:59', 'none', 'post', false, :now, :now, "
         f"{approved})",
         "INSERT INTO draft_versions (id, consultation_id, number, created_at) "
         "VALUES (1, 1, 1, :now)")


def test_upgrade_counts_the_comments_already_there(empty_database_url, real_session):
    """0007_pages and 0013_counts: the kept counts — by status, and by article for the
    contents list — start from the comments in the database."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(revision="0003_house")
        _a_consultation()
        _run("INSERT INTO articles (id, version_id, number, label, text) "
             "VALUES (7, 1, 1, '第一条', '条文')", *(
                 "INSERT INTO comments (id, tracking_no, consultation_id, version_id, "
                 "article_id, body, category, channel, publish_name, notify, status, "
                 f"created_at, received_at) VALUES ({i}, 'T{i}', 1, 1, {article}, '意见', "
                 f"'individual', 'web', false, false, '{status}', :now, :now)"
                 for i, (status, article) in enumerate(
                     [("published", 7), ("published", "NULL"), ("published", 7),
                      ("hidden", 7), ("unverified", "NULL")], start=1)))
        upgrade()
        from consult.comments.counts import counts_by_article, counts_by_status

        assert counts_by_status([1]) == {1: {"published": 3, "hidden": 1, "unverified": 1}}
        assert counts_by_article(1, 1) == {7: 3, None: 2}
        db.session.remove()
        db.engine.dispose()


def test_upgrade_gives_each_consultation_the_window_minimums_in_force(empty_database_url,
                                                                       real_session):
    """0012_oversight: consultations already there keep the minimums in force at the upgrade —
    the values saved at /admin/settings over the configuration's."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(revision="0009_find")
        now = "2026-03-01 08:00:00"
        statements = [
            "INSERT INTO units (id, name, is_legal_office, created_at) "
            "VALUES (1, '市人社局', false, :now)",
            "INSERT INTO consultations (id, title, type, unit_id, summary, explanation, state, "
            "opens_at, closes_at, verification, moderation, concerns_business, created_at, "
            "updated_at) VALUES (1, '办法', 'normative_document', 1, '', '', 'draft', "
            "'2026-04-01 00:00:00', '2026-04-30 15:59:59', 'none', 'post', false, :now, :now)",
            "INSERT INTO settings (key, value, updated_at) VALUES ('WINDOW_MIN_DAYS', "
            "'{\"rule\": 45, \"major_decision\": 30, \"normative_document\": 10, "
            "\"other\": 7}', :now)",
        ]
        with db.engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement), {"now": now})
        upgrade()
        from consult.consultations.models import Consultation

        consultation = db.session.get(Consultation, 1)
        assert consultation.window_minimums == {"rule": 45, "major_decision": 30,
                                                "normative_document": 10, "other": 7,
                                                "business": 30}
        assert consultation.window_rule.days == 10 and consultation.window_rule.working
        db.session.remove()
        db.engine.dispose()


def test_a_migrated_sqlite_database_counts_comments_as_a_new_one_does(empty_database_url,
                                                                      tmp_path, real_session):
    """0015 and 0017: on SQLite the triggers that count each inserted comment
    (consult/comments/counts.py) and list each published one for its search index row
    (consult/comments/models.py `UnindexedComment`) are made by the migrations exactly as by
    the models, and work."""
    if not empty_database_url.startswith("sqlite"):
        pytest.skip("SQLite's trigger")
    trigger = ("SELECT group_concat(sql, ';') FROM (SELECT sql FROM sqlite_master "
               "WHERE type = 'trigger' AND tbl_name = 'comments' ORDER BY name)")
    made = create_app({"TESTING": True,
                       "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'made.db'}"})
    with made.app_context():
        db.create_all()
        with db.engine.connect() as conn:
            expected = conn.execute(text(trigger)).scalar()
        db.engine.dispose()
    assert "comments_counted" in expected and "comments_unindexed" in expected
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(revision="0003_house")  # a database with a comment in it
        _a_consultation()
        _run("INSERT INTO comments (id, tracking_no, consultation_id, version_id, body, "
             "category, channel, publish_name, notify, status, created_at, received_at) "
             "VALUES (1, 'T1', 1, 1, '意见', 'individual', 'web', false, false, "
             "'published', :now, :now)")
        upgrade()
        with db.engine.begin() as conn:
            assert expected and conn.execute(text(trigger)).scalar() == expected
            columns = [row[1] for row in conn.execute(text("PRAGMA table_info(comments)"))
                       if row[1] not in ("id", "tracking_no")]
            conn.execute(text(  # a second comment, as any INSERT would write it
                f"INSERT INTO comments (tracking_no, {', '.join(columns)}) "
                f"SELECT 'T2', {', '.join(columns)} FROM comments WHERE id = 1"))
        from consult.comments.counts import counts_by_article, counts_by_status

        assert counts_by_status([1]) == {1: {"published": 2}}
        assert counts_by_article(1, 1) == {None: 2}
        with db.engine.connect() as conn:  # the first was indexed by the release it came from
            assert list(conn.scalars(text("SELECT comment_id FROM unindexed_comments"))) == [2]
        db.session.remove()
        db.engine.dispose()


def test_upgrade_lists_the_comments_still_waiting_for_their_search_rows(empty_database_url,
                                                                       real_session):
    """0017: the comments flagged `index_pending` when it runs wait on the list instead, the
    flag goes, and the indexer writes their rows (the others had theirs already)."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(revision="0003_house")
        _a_consultation("open")
        upgrade(revision="0016_comment_group_index")
        _run(*(
            "INSERT INTO comments (id, tracking_no, consultation_id, version_id, body, "
            "category, channel, publish_name, notify, status, created_at, received_at, "
            f"index_pending) VALUES ({i}, 'T{i}', 1, 1, '建议延长公示期{i}', 'individual', 'web', "
            f"false, false, 'published', :now, :now, {pending})"
            for i, pending in ((1, "false"), (2, "true"), (3, "true"))))
        upgrade()
        with db.engine.connect() as conn:
            waiting = list(conn.scalars(text(
                "SELECT comment_id FROM unindexed_comments ORDER BY comment_id")))
            columns = {c["name"] for c in inspect(conn).get_columns("comments")}
            indexes = {i["name"] for i in inspect(conn).get_indexes("comments")}
        assert waiting == [2, 3]
        assert "index_pending" not in columns and "ix_comments_index_pending" not in indexes
        from consult.search.indexing import index_pending_comments

        assert index_pending_comments() == 2
        with db.engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM unindexed_comments")) == 0
            assert list(conn.scalars(text(
                "SELECT ref_id FROM search_documents WHERE kind = 'comment' ORDER BY ref_id"
            ))) == [2, 3]
        downgrade(revision="0016_comment_group_index")  # and back: the flags again
        with db.engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM comments WHERE index_pending")) == 0
        db.session.remove()
        db.engine.dispose()


def test_a_comments_group_is_found_by_an_index_that_new_comments_do_not_write(make):
    """0016: the group index holds grouped comments only (a comment is made in no group, so
    its INSERT writes no entry); a group's comments, and the groups' members, are still found
    through it."""
    from consult.answers.models import CommentGroup
    from consult.comments.models import Comment

    consultation = make.consultation("open")
    grouped, alone = make.comment(consultation), make.comment(consultation)
    group = CommentGroup(consultation_id=consultation.id)
    db.session.add(group)
    db.session.flush()
    grouped.group_id = group.id
    db.session.flush()
    if db.engine.dialect.name == "sqlite":
        entries = db.session.scalar(text("SELECT count(*) FROM comments INDEXED BY "
                                         "ix_comments_group_id WHERE group_id IS NOT NULL"))
        assert entries == 1
        plan = " ".join(row[3] for row in db.session.execute(text(
            "EXPLAIN QUERY PLAN SELECT id FROM comments WHERE group_id = :g"), {"g": group.id}))
        assert "ix_comments_group_id" in plan
    members = db.session.scalars(db.select(Comment.id).where(Comment.group_id == group.id))
    assert list(members) == [grouped.id] and alone.group_id is None
