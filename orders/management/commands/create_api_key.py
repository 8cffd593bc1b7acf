"""Make an API key and print it once: only its hash is kept."""

from django.core.management.base import BaseCommand, CommandError

from orders.api.auth import api_key_create
from orders.models import ApiScope
from orders.permissions import Actor
from retailers.models import Retailer


class Command(BaseCommand):
    help = "Create an API key for a partner (marketplace) or a retailer; prints the key once."

    def add_arguments(self, parser):
        owner = parser.add_mutually_exclusive_group(required=True)
        owner.add_argument("--partner", help="Marketplace name, e.g. 'Acme Market'.")
        owner.add_argument("--retailer", help="Retailer slug (or exact name).")
        parser.add_argument(
            "--scopes",
            nargs="+",
            required=True,
            choices=ApiScope.values,
            help="Scopes the key grants.",
        )
        parser.add_argument("--name", default="", help="What the key is for.")
        parser.add_argument("--test", action="store_true", help="A sandbox (test-mode) key.")

    def handle(self, *args, partner, retailer, scopes, name, test, **options):
        found = None
        if retailer:
            found = (
                Retailer.objects.filter(slug=retailer).first()
                or Retailer.objects.filter(name=retailer).first()
            )
            if found is None:
                raise CommandError(f"No retailer with slug or name {retailer!r}.")
        key, raw = api_key_create(
            name=name or f"{partner or found.name} key",
            scopes=scopes,
            partner=partner or "",
            retailer=found,
            test_mode=test,
            actor=Actor.system("create_api_key command"),
        )
        self.stderr.write(
            f"Created {'test' if test else 'live'} key {key.prefix}… for {key.owner_label} "
            f"with scopes {', '.join(key.scopes)}. It is shown only now:"
        )
        self.stdout.write(raw)
