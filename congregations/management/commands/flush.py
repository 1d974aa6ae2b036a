"""``flush`` as the schema's owner: emptying tables (the test suite's transactional tests
do after each) is the owner's to do, never the runtime role's."""

from django.core.management.commands import flush

from congregations.rls import AsOwner


class Command(AsOwner, flush.Command):
    pass
