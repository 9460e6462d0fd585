"""The Alembic migrations produce exactly the schema the models describe."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from market import db


def test_models_and_migrations_agree():
    with db.engine().connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.Base.metadata)
    assert diff == [], f"write a migration for: {diff}"
