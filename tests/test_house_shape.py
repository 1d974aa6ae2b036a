"""The house's shape, held by tests: state changes only in services, and the project
package imports no app's internals beyond URLs, the demo and the admin."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
APPS = ("congregations", "crews", "reciprocity", "privacy", "microsolidarity")
# Writing is for services; these write on purpose outside them: migrations (data
# migrations) and the demo's loader (the benchmark's loader is not in the app at all).
MAY_WRITE = ("/migrations/", "/services/", "microsolidarity/demo.py")
# And these calls, each for a reason that is not ours to change.
BESIDE_SERVICES = {
    # Django's createsuperuser makes the first operator through the user manager.
    "congregations/models.py: user.save()",
    "congregations/models.py: EmailAddress.objects.using(self._db).create()",
    # The beat schedule is django-celery-beat's rows, written after every migrate.
    "microsolidarity/schedule.py: interval_schedule.objects.using(using).get_or_create()",
    "microsolidarity/schedule.py: periodic_task.objects.using(using).update_or_create()",
    # openpyxl's Workbook.save writes the .xlsx into memory, no row.
    "reciprocity/sheets.py: book.save()",
}
WRITES = {"save", "delete", "bulk_create", "bulk_update", "get_or_create", "update_or_create"}
# .create() and .update() are dict and set methods too: count them on a manager or a
# queryset only.
QUERYSET_WRITES = {"create", "update"}
QUERYSETS = ("objects", "filter(", "exclude(", ".all(", "select_for_update(", "_set")


def sources(*apps: str) -> Iterator[Path]:
    for app in apps:
        yield from sorted((ROOT / app).rglob("*.py"))


def writes_in(path: Path) -> list[tuple[int, str]]:
    """Each call in ``path`` that writes rows: its line, and "receiver.method()"."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name, receiver = node.func.attr, ast.unparse(node.func.value)
            if name in WRITES or (
                name in QUERYSET_WRITES and any(mark in receiver for mark in QUERYSETS)
            ):
                found.append((node.lineno, f"{receiver}.{name}()"))
    return found


def test_no_module_outside_services_writes_rows() -> None:
    writes = [
        f"{path.relative_to(ROOT)}:{line}: {call}"
        for path in sources(*APPS)
        if not any(part in path.as_posix() for part in MAY_WRITE)
        for line, call in writes_in(path)
        if f"{path.relative_to(ROOT)}: {call}" not in BESIDE_SERVICES
    ]
    assert writes == []


def test_the_walk_sees_a_write_where_there_is_one(tmp_path: Path) -> None:
    """The test above could pass by seeing nothing; it sees writes, and not dict updates."""
    module = tmp_path / "views.py"
    module.write_text(
        "def view(meeting, context):\n"
        "    meeting.save()\n"
        "    context.update(x=1)\n"
        "    Meeting.objects.filter(pk=1).update(x=1)\n"
    )
    assert writes_in(module) == [
        (2, "meeting.save()"),
        (4, "Meeting.objects.filter(pk=1).update()"),
    ]


def imported_modules(path: Path) -> set[str]:
    """What ``path`` imports when it runs: names imported for type checking only do not
    tie one module to another."""
    modules: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            return
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(), filename=str(path)))
    return modules


def test_the_project_package_reaches_into_the_apps_only_for_urls_the_demo_and_the_admin() -> None:
    """...and for the walls between congregations, which the job runner stands behind too."""
    wiring = {"urls.py", "demo.py", "seed_demo.py", "admin.py"}
    reaching = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in sources("microsolidarity")
        if "/migrations/" not in path.as_posix() and path.name not in wiring
        for module in sorted(imported_modules(path))
        if module.split(".")[0] in {"congregations", "crews", "reciprocity"}
        and module != "congregations.tenancy"
    ]
    assert reaching == []
