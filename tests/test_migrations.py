"""blog/migrations: data migrations bring stored rows up to date."""

import importlib

import pytest
from django.apps import apps

from blog.models import Post
from tests.factories import make_post

pytestmark = pytest.mark.django_db


def test_stored_table_alignment_becomes_classes():
    """0002 turns the old style="text-align: …" on stored table cells into
    the align-* classes the Content-Security-Policy allows."""
    post = make_post()
    old = (
        '<table><tr><th style="text-align: left;">a</th>'
        '<td colspan="2" style="text-align: right;">b</td></tr></table>'
    )
    Post.objects.filter(pk=post.pk).update(body_html=old)
    migration = importlib.import_module("blog.migrations.0002_tables_align_classes")
    migration.to_classes(apps, None)
    post.refresh_from_db()
    assert post.body_html == (
        '<table><tr><th class="align-left">a</th>'
        '<td colspan="2" class="align-right">b</td></tr></table>'
    )
