"""`manage.py rerender`: derive again everything Dateline derives at save time.

Bodies (Markdown → HTML with library figures, feed HTML, outline, word count,
the search document) of posts and story updates are rendered again, as are
posts' stored listing fragments (cards, blog/cards.py) and article parts
(blog/articles.py); lead-image
sizes missing from old rows are read once, and renditions missing (or all of
them, with --renditions) are queued, for lead images and the media library. Run it
after a pipeline upgrade or a move of the media to another host (issue 11).
Nothing is announced to hubs and no post counts as edited.
"""

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from blog import articles, cards, tasks
from blog.markup import render_markdown
from blog.models import (
    MediaImage,
    Post,
    SiteState,
    StoryUpdate,
    weighted_search_vector,
)


class Command(BaseCommand):
    help = "Render stored bodies again, fill missing image sizes, queue renditions."

    def add_arguments(self, parser):
        parser.add_argument(
            "--renditions",
            action="store_true",
            help="Queue new renditions for every lead image, not only missing ones.",
        )

    def handle(self, *args, renditions=False, **options):
        posts = updates = sizes = queued = 0
        posts_query = (
            Post.objects.select_related("lead_media", "section", "author")
            .with_bylines()
            .order_by("pk")
        )
        for post in posts_query.iterator(chunk_size=200):
            # Library figures are read here (one query for a body with any),
            # so their URLs follow a move of the media to another host.
            post.render_body()
            post.copy_lead_media()
            changes = {
                "body_html": post.body_html,
                "body_text": post.body_text,
                "feed_html": post.feed_html,
                "toc": post.toc,
                "word_count": post.word_count,
                "media_ids": post.media_ids,
                **post.lead_media_columns(),
                # Its card and desk line (blog/cards.py), stamped anew.
                **cards.render(post),
            }
            if connection.vendor == "postgresql":
                changes["search_vector"] = weighted_search_vector()
            if post.lead_image and not (
                post.lead_image_width and post.lead_image_height
            ):
                try:
                    changes["lead_image_width"] = post.lead_image.width
                    changes["lead_image_height"] = post.lead_image.height
                    sizes += 1
                except OSError as error:
                    self.stderr.write(f"{post.lead_image.name}: {error}")
            with transaction.atomic():
                Post.objects.filter(pk=post.pk).update(**changes)
                post.record_media_uses()
                if post.lead_image and (renditions or not post.lead_image_renditions):
                    tasks.make_lead_renditions.enqueue(post.pk, post.lead_image.name)
                    queued += 1
            posts += 1
        library = (
            MediaImage.objects.all()
            if renditions
            else MediaImage.objects.filter(renditions=[])
        )
        for image in library.only("pk", "file").iterator(chunk_size=200):
            tasks.make_media_renditions.enqueue(image.pk, image.file.name)
            queued += 1
        # Articles' own parts (blog/articles.py) whose key the new rendering
        # (or a new template or setting) made stale.
        articles.refresh()
        updates_and_stories = StoryUpdate.objects.select_related("post").order_by("pk")
        for update in updates_and_stories.iterator(chunk_size=200):
            update.body_html = render_markdown(update.body).html
            update.render_feed_html()
            StoryUpdate.objects.filter(pk=update.pk).update(
                body_html=update.body_html,
                feed_html=update.feed_html,
                feed_path=update.feed_path,
            )
            updates += 1
        SiteState.touch()  # every page and feed shows the new rendering
        self.stdout.write(
            f"Rendered {posts} posts and {updates} story updates; "
            f"read {sizes} image sizes; queued renditions for {queued} images."
        )
