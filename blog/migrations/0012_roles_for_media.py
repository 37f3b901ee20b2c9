# Authors upload library images and change their own; Editors manage the whole
# media library (blog/roles.py, issue 7).
from django.db import migrations

from blog.roles import sync_groups


class Migration(migrations.Migration):
    dependencies = [
        ("blog", "0011_media_library"),
    ]

    operations = [
        migrations.RunPython(sync_groups, migrations.RunPython.noop),
    ]
