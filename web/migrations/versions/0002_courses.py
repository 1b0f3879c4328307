"""Courses with their own instructors: courses, instructors (argon2 password hashes), who teaches
what, per-course API tokens (SHA-256 at rest), every assignment in a course, and the instructor a
page session belongs to. Assignments made before courses go into "Default course", made here.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: the course of the assignments made before courses (and of the admin's, when none is named)
DEFAULT_COURSE = "Default course"


ASSIGNMENT_COLUMNS = "id, title, kind, spec_json, max_attempts, created_at"


def _rebuilt_sqlite(
    columns: list[sa.schema.SchemaItem], kept: str, added: str = "", value: int = 0
) -> None:
    """The assignment table made anew on SQLite, its rows kept (``kept`` columns, and ``added``
    set to ``value``). SQLite gives a table a NOT NULL foreign key only by making it anew, and
    Alembic's batch mode copies the rows into the new table before dropping the old one: the drop
    leaves every student without their assignment, which ``PRAGMA foreign_keys=ON`` (as the
    service connects; it cannot be turned off inside the migration's transaction) refuses at
    commit. So the checks wait for the commit (``defer_foreign_keys``), the old table is dropped
    first and the rows are put back afterwards: each row put back satisfies its students again."""
    op.execute("PRAGMA defer_foreign_keys = ON")
    op.execute(f"CREATE TABLE _assignment_copy AS SELECT {kept} FROM assignment")
    op.drop_table("assignment")
    op.create_table("assignment", *columns)
    into, values = (f"{kept}, {added}", f"{kept}, :value") if added else (kept, kept)
    op.execute(
        sa.text(
            f"INSERT INTO assignment ({into}) SELECT {values} FROM _assignment_copy"
        ).bindparams(*([sa.bindparam("value", value)] if added else []))
    )
    op.drop_table("_assignment_copy")


def upgrade() -> None:
    op.create_table(
        "course",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "instructor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("login"),
    )
    op.create_table(
        "course_instructor",
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("instructor_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["course_id"], ["course.id"]),
        sa.ForeignKeyConstraint(["instructor_id"], ["instructor.id"]),
        sa.PrimaryKeyConstraint("course_id", "instructor_id"),
    )
    op.create_index(
        "ix_course_instructor_instructor_id", "course_instructor", ["instructor_id"], unique=False
    )
    op.create_table(
        "course_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["course_id"], ["course.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_course_token_course_id", "course_token", ["course_id"], unique=False)

    # every assignment there is goes into the default course
    course = sa.table(
        "course", sa.column("id", sa.Integer), sa.column("name"), sa.column("created_at")
    )
    bind = op.get_bind()
    bind.execute(
        sa.insert(course).values(
            name=DEFAULT_COURSE, created_at=datetime.now(UTC).replace(tzinfo=None)
        )
    )
    default_id = bind.execute(
        sa.select(course.c.id).where(course.c.name == DEFAULT_COURSE)
    ).scalar_one()
    if bind.dialect.name == "sqlite":
        _rebuilt_sqlite(
            [
                sa.Column("id", sa.Integer(), nullable=False),
                sa.Column("course_id", sa.Integer(), nullable=False),
                sa.Column("title", sa.String(length=200), nullable=False),
                sa.Column("kind", sa.String(length=40), nullable=False),
                sa.Column("spec_json", sa.Text(), nullable=False),
                sa.Column("max_attempts", sa.Integer(), nullable=False),
                sa.Column("created_at", sa.DateTime(), nullable=False),
                sa.ForeignKeyConstraint(
                    ["course_id"], ["course.id"], name="fk_assignment_course_id"
                ),
                sa.PrimaryKeyConstraint("id"),
            ],
            ASSIGNMENT_COLUMNS,
            "course_id",
            default_id,
        )
    else:
        op.add_column("assignment", sa.Column("course_id", sa.Integer(), nullable=True))
        assignment = sa.table("assignment", sa.column("course_id", sa.Integer))
        bind.execute(sa.update(assignment).values(course_id=default_id))
        op.alter_column("assignment", "course_id", existing_type=sa.Integer(), nullable=False)
        op.create_foreign_key(
            "fk_assignment_course_id", "assignment", "course", ["course_id"], ["id"]
        )
    op.create_index("ix_assignment_course_id", "assignment", ["course_id"], unique=False)

    with op.batch_alter_table("instructor_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("instructor_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_instructor_session_instructor_id", ["instructor_id"])
        batch_op.create_foreign_key(
            "fk_instructor_session_instructor_id", "instructor", ["instructor_id"], ["id"]
        )


def downgrade() -> None:
    """Back to one instructor: the courses, accounts and tokens go (assignments stay)."""
    with op.batch_alter_table("instructor_session", schema=None) as batch_op:
        batch_op.drop_constraint("fk_instructor_session_instructor_id", type_="foreignkey")
        batch_op.drop_index("ix_instructor_session_instructor_id")
        batch_op.drop_column("instructor_id")
    op.drop_index("ix_assignment_course_id", table_name="assignment")
    if op.get_bind().dialect.name == "sqlite":
        _rebuilt_sqlite(
            [
                sa.Column("id", sa.Integer(), nullable=False),
                sa.Column("title", sa.String(length=200), nullable=False),
                sa.Column("kind", sa.String(length=40), nullable=False),
                sa.Column("spec_json", sa.Text(), nullable=False),
                sa.Column("max_attempts", sa.Integer(), nullable=False),
                sa.Column("created_at", sa.DateTime(), nullable=False),
                sa.PrimaryKeyConstraint("id"),
            ],
            ASSIGNMENT_COLUMNS,
        )
    else:
        op.drop_constraint("fk_assignment_course_id", "assignment", type_="foreignkey")
        op.drop_column("assignment", "course_id")
    op.drop_index("ix_course_token_course_id", table_name="course_token")
    op.drop_table("course_token")
    op.drop_index("ix_course_instructor_instructor_id", table_name="course_instructor")
    op.drop_table("course_instructor")
    op.drop_table("instructor")
    op.drop_table("course")
