"""The benchmark lives beside the app, not in it: not installed with it, and not imported
by any of its packages."""

from __future__ import annotations

import ast
import tomllib
from fnmatch import fnmatch
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
APP_PACKAGES = ["microsolidarity", "congregations", "crews", "reciprocity"]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    modules = {alias.name for n in ast.walk(tree) if isinstance(n, ast.Import) for alias in n.names}
    return modules | {
        n.module
        for n in ast.walk(tree)
        if isinstance(n, ast.ImportFrom) and n.module and not n.level
    }


def test_the_bench_is_not_installed_with_the_app() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    include = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    assert all(any(fnmatch(name, p) for p in include) for name in APP_PACKAGES)
    assert not [p for p in include for name in ("bench", "bench.world") if fnmatch(name, p)]


def test_no_package_of_the_app_imports_the_bench() -> None:
    importers = [
        str(path.relative_to(ROOT))
        for package in APP_PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if any(m == "bench" or m.startswith("bench.") for m in imported_modules(path))
    ]
    assert importers == []
