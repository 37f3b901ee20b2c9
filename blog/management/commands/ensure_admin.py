import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.urls import reverse


class Command(BaseCommand):
    help = "Create the `admin` superuser with a random password, once, and print it."

    def handle(self, *args, **options):
        users = get_user_model()
        if users.objects.filter(username="admin").exists():
            self.stdout.write(
                f"Admin: log in at {reverse('admin:index')} as `admin` with the password "
                "printed when it "
                "was created (forgotten? `make admin-password` sets a new one)."
            )
            return
        password = secrets.token_urlsafe(12)
        users.objects.create_superuser(
            "admin", "", password, first_name="Site", last_name="Editor"
        )
        self.stdout.write(
            self.style.SUCCESS(
                "\n  Admin account created — shown this once, keep it:\n"
                f"    user: admin\n    password: {password}\n"
            )
        )
