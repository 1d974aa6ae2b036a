"""factory-boy factories. A child row's congregation follows from its parent, so a test
cannot build cross-tenant rows by accident. Crews and meetings have none: they are made
through the services (``crews.services.form_crew``, ``tests.builders.scheduled_meeting``),
so a test never holds a crew without members or a meeting scheduled in the past."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from congregations.models import Congregation, Membership, Role, Self
from congregations.tenancy import tenant

PASSWORD = "a-long-test-password"


class SelfFactory(factory.django.DjangoModelFactory[Self]):
    class Meta:
        model = Self
        django_get_or_create = ["email"]
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"self{n}@example.net")
    display_name = factory.Faker("name")
    timezone = "Europe/Amsterdam"
    paid_work = factory.Faker("job")
    meaningful_work = "growing food together"
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def email_address(obj: Self, create: bool, extracted: bool | None, **kwargs: object) -> None:
        """The verified primary address an invitation gives (``email_address=False``: a Self
        from before allauth, with none)."""
        if create and extracted is not False:
            EmailAddress.objects.get_or_create(
                user=obj, email=obj.email, defaults={"primary": True, "verified": True}
            )


class CongregationFactory(factory.django.DjangoModelFactory[Congregation]):
    class Meta:
        model = Congregation

    name = factory.Sequence(lambda n: f"Congregation {n}")
    slug = factory.LazyAttribute(lambda o: o.name.lower().replace(" ", "-"))


class MembershipFactory(factory.django.DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    congregation = factory.SubFactory(CongregationFactory)
    member = factory.SubFactory(SelfFactory)
    role = Role.MEMBER
    joined_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=365))

    @classmethod
    def _create(cls, model_class: type[Membership], *args: Any, **kwargs: Any) -> Membership:
        # Written inside its congregation's walls, as a service would.
        with tenant(kwargs["congregation"]):
            return super()._create(model_class, *args, **kwargs)
