"""Table alignment stored as classes instead of inline style (issue 10).

Bodies rendered before blog/markup.py's TableAlignment carry
style="text-align: …" on table cells, which the Content-Security-Policy
refuses; the sanitiser wrote exactly that form, so a substitution converts it
without rendering again.
"""

import re

from django.db import migrations

OLD = re.compile(r'<(t[hd])\b([^>]*?) style="text-align: (left|right|center);"')


def to_classes(apps, schema_editor):
    for model in ("Post", "StoryUpdate"):
        rows = apps.get_model("blog", model).objects.filter(
            body_html__contains='style="text-align:'
        )
        for pk, html in rows.values_list("pk", "body_html"):
            rows.filter(pk=pk).update(
                body_html=OLD.sub(r'<\1\2 class="align-\3"', html)
            )


class Migration(migrations.Migration):
    dependencies = [("blog", "0001_initial")]

    operations = [migrations.RunPython(to_classes, migrations.RunPython.noop)]
