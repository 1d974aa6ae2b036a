"""``dumpdata`` as the schema's owner: outside a congregation's walls row-level security
shows the runtime role no tenant rows, so a dump made with its credentials would be a
backup without a single congregation in it, and say nothing."""

from django.core.management.commands import dumpdata

from congregations.rls import AsOwner


class Command(AsOwner, dumpdata.Command):
    pass
