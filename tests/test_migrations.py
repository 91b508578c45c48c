"""Alembic migrations build the same schema as the models, from empty, on both databases."""

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text

from consult import create_app
from consult.extensions import db


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


def test_upgrade_from_empty_matches_the_models_and_downgrades(empty_database_url):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "render_as_batch": True}
            )
            assert compare_metadata(context, db.metadata) == []
        downgrade(revision="base")
        upgrade()
        db.session.remove()
        db.engine.dispose()
