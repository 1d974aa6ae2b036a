"""Model fields the apps share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core import validators
from django.db import models
from django.utils.functional import cached_property

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class BoundedTextField(models.TextField):
    """A multi-line text whose ``max_length`` ``full_clean`` checks too. Django's TextField
    leaves its max_length to the form alone, so a service called from ``manage.py shell``
    would otherwise store what the page refuses."""

    def __init__(
        self, verbose_name: StrOrPromise | None = None, *, max_length: int, **kwargs: Any
    ) -> None:
        super().__init__(verbose_name, max_length=max_length, **kwargs)

    @cached_property
    def validators(self) -> list[Any]:
        return [
            *super().validators,
            validators.MaxLengthValidator(self.max_length),
            validators.ProhibitNullCharactersValidator(),
        ]
