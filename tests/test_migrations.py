"""blog/migrations: data migrations bring stored rows up to date."""

import importlib

import pytest
from django.apps import apps
from django.db import connection

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


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL storage")
def test_feed_copy_is_stored_uncompressed_on_postgresql():
    """0024: a post's feed copy is stored out of line uncompressed (STORAGE
    EXTERNAL): a feed reads twenty of them, and decompressing them cost more
    database time than the rest of its query (issue 8)."""
    post = make_post(body="Words, and more words. " * 2000)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attstorage FROM pg_attribute"
            " WHERE attrelid = 'blog_post'::regclass AND attname = 'feed_html'"
        )
        assert cursor.fetchone()[0] == "e"
        cursor.execute(
            "SELECT pg_column_compression(feed_html), pg_column_size(feed_html),"
            " octet_length(feed_html) FROM blog_post WHERE id = %s",
            [post.pk],
        )
        compression, stored, length = cursor.fetchone()
    assert compression is None and stored >= length > 20_000
