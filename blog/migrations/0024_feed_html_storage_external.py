"""A post's feed copy (`feed_html`) stored out of line uncompressed on
PostgreSQL (issue 8).

A feed reads twenty of them (about 10 kB each): decompressing them (pglz) cost
the server more than the rest of the feed's query. STORAGE EXTERNAL keeps them
in the TOAST table as they are (about three times the disk of the compressed
copies). Existing rows are rewritten once so that they are stored that way too
(a new value of the column is stored by the column's storage; an unchanged one
keeps its old form). SQLite stores text as it is: nothing to do there.

An AlterField that changes the column's type would reset its storage: set it
again after one.
"""

from django.db import migrations


def set_storage(storage, *then):
    """A migration step: feed_html's STORAGE set on PostgreSQL, then `then`."""

    def step(apps, schema_editor):
        connection = schema_editor.connection
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            cursor.execute(
                f'ALTER TABLE "blog_post" ALTER COLUMN "feed_html" SET STORAGE {storage}'
            )
            for sql in then:
                cursor.execute(sql)

    return step


# || '' makes a new value, stored by the new storage.
REWRITE_COMPRESSED = (
    'UPDATE "blog_post" SET "feed_html" = "feed_html" || \'\''
    ' WHERE pg_column_compression("feed_html") IS NOT NULL'
)


class Migration(migrations.Migration):
    dependencies = [
        ("blog", "0023_post_around_index"),
    ]

    operations = [
        migrations.RunPython(
            set_storage("EXTERNAL", REWRITE_COMPRESSED),
            set_storage("EXTENDED"),
            elidable=False,
        ),
    ]
