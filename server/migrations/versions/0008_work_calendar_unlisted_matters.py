"""work calendar as reference data; the register of unlisted matters

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-07 14:30:00

Written by hand. ``work_calendar_year`` holds each year's holidays and make-up working days as
an administrator entered them (a new entry adds a row with a higher revision), seeded here from
the ``chinese-calendar`` package for every year it covers. ``case_record.deadline_note`` says
when a deadline was computed without a year's calendar. ``unlisted_matter`` is the register of
cases no list entry covered (属地管理 default or an override), which 编办 reviews.
"""
from datetime import UTC, date, datetime

from alembic import op
import sqlalchemy as sa

import server.models.types


revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _seed_rows() -> list[dict[str, object]]:
    import chinese_calendar

    version = getattr(chinese_calendar, "__version__", "")
    years: dict[int, dict[str, list[dict[str, str]]]] = {}
    for kind, days in (("holidays", chinese_calendar.holidays), ("workdays", chinese_calendar.workdays)):
        for day, name in sorted(days.items()):
            if not isinstance(day, date):
                continue
            entry = years.setdefault(day.year, {"holidays": [], "workdays": []})
            entry[kind].append({"date": day.isoformat(), "name": str(name)})
    now = datetime.now(UTC)
    return [
        {
            "revision": i + 1,
            "year": year,
            "holidays": years[year]["holidays"],
            "workdays": years[year]["workdays"],
            "source": f"chinese-calendar {version}".strip(),
            "entered_by": None,
            "entered_at": now,
        }
        for i, year in enumerate(sorted(years))
    ]


def upgrade() -> None:
    calendar = op.create_table(
        "work_calendar_year",
        sa.Column("revision", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("holidays", sa.JSON().with_variant(sa.JSON(), "sqlite"), nullable=False),
        sa.Column("workdays", sa.JSON().with_variant(sa.JSON(), "sqlite"), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("entered_by", sa.String(length=36), nullable=True),
        sa.Column(
            "entered_at", server.models.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("revision"),
    )
    op.create_index(
        "ix_work_calendar_year_year", "work_calendar_year", ["year"], unique=False
    )
    op.create_table(
        "unlisted_matter",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("category", sa.String(length=60), nullable=False),
        sa.Column("town_code", sa.String(length=40), nullable=True),
        sa.Column("list_version", sa.Integer(), nullable=False),
        sa.Column("lead_department", sa.String(length=40), nullable=False),
        sa.Column("override_reason", sa.String(length=2000), nullable=True),
        sa.Column("recorded_by", sa.String(length=36), nullable=False),
        sa.Column(
            "recorded_at", server.models.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(["case_id"], ["case_record.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_unlisted_matter_case_id", "unlisted_matter", ["case_id"], unique=False
    )
    with op.batch_alter_table("case_record") as batch:
        batch.add_column(sa.Column("deadline_note", sa.String(length=300), nullable=True))
    op.bulk_insert(calendar, _seed_rows())


def downgrade() -> None:
    with op.batch_alter_table("case_record") as batch:
        batch.drop_column("deadline_note")
    op.drop_index("ix_unlisted_matter_case_id", table_name="unlisted_matter")
    op.drop_table("unlisted_matter")
    op.drop_index("ix_work_calendar_year_year", table_name="work_calendar_year")
    op.drop_table("work_calendar_year")
