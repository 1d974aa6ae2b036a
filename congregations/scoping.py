"""The default manager of every tenant-owned model: no congregation in scope, no query.

django-scopes' ScopedManager filters every query by the congregation in scope and refuses
most queries when there is none. This closes what it leaves open: ``exists()``,
``contains()``, ``in_bulk()`` and the like, and the custom queryset methods of our
managers (``current()``), which would otherwise answer across every congregation or fail
with an AttributeError that does not say why."""

from __future__ import annotations

from typing import Any, NoReturn

from django.db import models
from django_scopes import ScopedManager
from django_scopes.manager import DisabledQuerySet


class UnscopedQuerySet(DisabledQuerySet):
    exists = contains = in_bulk = explain = bulk_update = DisabledQuerySet.error
    aggregate = aexists = acount = aget = DisabledQuerySet.error

    def __getattr__(self, name: str) -> NoReturn:
        if name.startswith("_"):
            raise AttributeError(name)
        self.error()
        raise AssertionError  # error() always raises


def TenantManager(manager_class: type[models.Manager[Any]] = models.Manager) -> Any:
    """A manager scoped by ``congregation``, built on ``manager_class``."""
    scoped = type(ScopedManager(congregation="congregation", _manager_class=manager_class))

    class Manager(scoped):  # type: ignore[misc,valid-type]
        def get_queryset(self) -> models.QuerySet[Any]:
            queryset = super().get_queryset()
            if type(queryset) is DisabledQuerySet:
                return UnscopedQuerySet(
                    self.model, using=self._db, missing_scopes=queryset.missing_scopes
                )
            return queryset

    return Manager()
