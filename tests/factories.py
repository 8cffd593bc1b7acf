"""factory_boy factories: the smallest valid rows, with real-looking values."""

import datetime as dt

import factory
from django.contrib.auth import get_user_model

from drivers.models import Block, Driver
from orders.models import Address, Shopper
from retailers import clock
from retailers.models import Mall, Product, Retailer, Stock, Store, StoreHours, StoreMembership


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("mallrun")


class MallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Mall

    name = factory.Sequence(lambda n: f"Test Mall {n}")
    slug = factory.Sequence(lambda n: f"test-mall-{n}")
    street = "3200 S Las Vegas Blvd"
    city = "Las Vegas"
    state = "NV"
    zip_code = "89109"
    latitude = 36.1272
    longitude = -115.1711
    timezone = "America/Los_Angeles"


class RetailerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Retailer

    name = factory.Sequence(lambda n: f"Retailer {n}")
    slug = factory.Sequence(lambda n: f"retailer-{n}")


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store
        skip_postgeneration_save = True

    mall = factory.SubFactory(MallFactory)
    retailer = factory.SubFactory(RetailerFactory)
    name = factory.LazyAttribute(lambda s: f"{s.retailer.name} {s.mall.name}")
    slug = factory.Sequence(lambda n: f"store-{n}")
    location_in_mall = "Level 1"
    prep_minutes = 15

    @factory.post_generation
    def open_all_day(store, create, extracted, **kwargs):
        if create and extracted is not False:
            StoreHours.objects.bulk_create(
                StoreHours(
                    store=store, weekday=d, opens_at=dt.time(0, 0), closes_at=dt.time(23, 59)
                )
                for d in range(7)
            )


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StoreMembership

    user = factory.SubFactory(UserFactory)
    store = factory.SubFactory(StoreFactory)
    role = StoreMembership.Role.MANAGER


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    retailer = factory.SubFactory(RetailerFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    title = factory.Sequence(lambda n: f"Product {n}")
    price_cents = 1999
    category = "Accessories"


class StockFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Stock

    store = factory.SubFactory(StoreFactory)
    product = factory.SubFactory(ProductFactory, retailer=factory.SelfAttribute("..store.retailer"))
    on_hand = 10
    reserved = 0


class ShopperFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shopper

    user = factory.SubFactory(UserFactory)
    phone = "+17025550100"


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Address

    shopper = factory.SubFactory(ShopperFactory)
    line1 = "1 Main St"
    city = "Las Vegas"
    state = "NV"
    zip_code = "89109"
    latitude = 36.1400
    longitude = -115.1500


class DriverFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Driver

    user = factory.SubFactory(UserFactory)
    phone = "+17025550199"
    status = Driver.Status.APPROVED
    capacity_bags = 12


class BlockFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Block

    mall = factory.SubFactory(MallFactory)
    starts_at = factory.LazyFunction(lambda: clock.now() + dt.timedelta(hours=2))
    ends_at = factory.LazyAttribute(lambda b: b.starts_at + dt.timedelta(hours=3))
    slots = 3
    guaranteed_pay_cents = 6000
