"""Running a domain service in the scope of the congregation it acts on."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from django_scopes import scope

P = ParamSpec("P")
R = TypeVar("R")

# The keyword arguments a service names its tenant-owned subject by; the first present
# decides the congregation.
SUBJECTS = (
    "congregation",
    "crew",
    "meeting",
    "conflict",
    "venture",
    "invitation",
    "membership",
    "entry",
)


def congregation_id_of(kwargs: dict[str, Any]) -> int:
    for name in SUBJECTS:
        if (subject := kwargs.get(name)) is not None:
            return int(subject.pk if name == "congregation" else subject.congregation_id)
    raise TypeError(f"A tenant service takes one of {', '.join(SUBJECTS)} as a keyword.")


def tenant_service(service: Callable[P, R]) -> Callable[P, R]:
    """Run the service inside its congregation's scope: every query on tenant data it makes
    sees only that congregation's rows, and it works the same from a view, a Celery task
    or `manage.py shell`."""

    @wraps(service)
    def scoped(*args: P.args, **kwargs: P.kwargs) -> R:
        with scope(congregation=congregation_id_of(kwargs)):
            return service(*args, **kwargs)

    return scoped
