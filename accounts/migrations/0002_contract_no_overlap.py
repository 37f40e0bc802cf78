"""On PostgreSQL, forbid two contracts of one premise and direction in force at the same instant.

`Contract.clean()` checks the same rule for every database; the exclusion constraint makes it hold
under concurrent writes too. SQLite has no exclusion constraints, so there this is a no-op.
"""

from django.db import migrations

CONSTRAINT = "accounts_contract_one_active_per_direction"


def add_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    schema_editor.execute(
        f"ALTER TABLE accounts_contract ADD CONSTRAINT {CONSTRAINT} EXCLUDE USING gist ("
        "premise_id WITH =, direction WITH =, "
        "tstzrange(start_at, end_at, '[)') WITH &&)"
    )


def drop_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE accounts_contract DROP CONSTRAINT IF EXISTS {CONSTRAINT}")


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(add_constraint, drop_constraint),
    ]
