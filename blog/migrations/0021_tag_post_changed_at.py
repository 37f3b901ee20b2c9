from django.db import migrations, models


def date_tags(apps, schema_editor):
    """The triggers replaced by those that keep both dates, and every row
    dated again (blog/tag_dates.py)."""
    from blog.tag_dates import ensure_tag_dates

    if schema_editor.connection.vendor == "sqlite":
        # Made by post_migrate once every migration has run (0017).
        return
    ensure_tag_dates(schema_editor.connection, replace=True)


class Migration(migrations.Migration):

    dependencies = [
        ("blog", "0020_article_post_parts"),
    ]

    operations = [
        migrations.AddField(
            model_name="taggedpost",
            name="post_changed_at",
            field=models.DateTimeField(editable=False, null=True),
        ),
        migrations.AddIndex(
            model_name="taggedpost",
            index=models.Index(
                fields=["tag", "-post_changed_at"], name="tagged_changed_idx"
            ),
        ),
        migrations.RunPython(date_tags, migrations.RunPython.noop),
    ]
