# Editors manage author profiles and static pages; authors keep co-bylines on
# their own posts and their own profile (blog/roles.py, issues 7 and 13).
from django.db import migrations

from blog.roles import sync_groups


class Migration(migrations.Migration):
    dependencies = [
        ("blog", "0009_authors_pages"),
    ]

    operations = [
        migrations.RunPython(sync_groups, migrations.RunPython.noop),
    ]
