"""The dosing rule modules are pure: standard library only, never Django, so the clinical rules
can be read, tested and reused without a database."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import kapflow.dosing as package

PURE = ("protocol", "vitals", "gate", "dose", "monitoring", "discharge")
MODULES = [Path(package.__file__).parent / f"{name}.py" for name in PURE]
SIBLINGS = {f"kapflow.dosing.{name}" for name in PURE} | {"kapflow.dosing"}


def imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    modules = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            modules.append("." * node.level + (node.module or ""))
    return modules


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.name)
def test_the_module_imports_only_the_standard_library_and_its_pure_siblings(path):
    modules = imported_modules(path)
    assert modules, "parsed nothing"
    for module in modules:
        top = module.split(".")[0]
        assert top != "django", f"{path.name} imports {module}"
        assert not module.startswith("."), f"{path.name} uses a relative import ({module})"
        assert top in sys.stdlib_module_names or module == "__future__" or module in SIBLINGS, (
            f"{path.name} imports {module}"
        )


def test_importing_the_modules_loads_no_django_module():
    code = (
        "import sys\n"
        + "".join(f"import kapflow.dosing.{name}\n" for name in PURE)
        + "print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))\n"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
