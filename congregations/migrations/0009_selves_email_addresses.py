"""Every Self who existed before django-allauth gets their address as allauth's verified,
primary EmailAddress: each was reached by a single-use invitation link (or made by an
operator), so it is proven already, and their password keeps working as it is."""

from django.db import migrations


def add_email_addresses(apps, schema_editor):
    Self = apps.get_model("congregations", "Self")
    EmailAddress = apps.get_model("account", "EmailAddress")
    known = set(EmailAddress.objects.values_list("user_id", flat=True))
    EmailAddress.objects.bulk_create(
        [
            EmailAddress(user_id=pk, email=email.lower(), primary=True, verified=True)
            for pk, email in Self.objects.values_list("pk", "email")
            if pk not in known and email
        ],
        batch_size=1000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("congregations", "0008_tenant_owned"),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]

    operations = [migrations.RunPython(add_email_addresses, migrations.RunPython.noop)]
