"""The instrument engine is pure: it imports the standard library and itself, never Django."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import kapflow.measures.instruments as package

PACKAGE_DIR = Path(package.__file__).parent
SOURCES = sorted(PACKAGE_DIR.glob("*.py"))


def imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    modules = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            modules.append("." * node.level + (node.module or ""))
    return modules


def test_the_package_has_the_expected_modules():
    names = {path.name for path in SOURCES}
    assert {"__init__.py", "model.py", "scoring.py", "definitions.py", "builtin.py"} <= names


def test_no_module_of_the_engine_imports_django():
    for path in SOURCES:
        for module in imported_modules(path):
            assert module.split(".")[0] != "django", f"{path.name} imports {module}"


def test_every_import_is_the_standard_library_or_the_engine_itself():
    for path in SOURCES:
        for module in imported_modules(path):
            top = module.split(".")[0]
            inside = module.startswith("kapflow.measures.instruments") or module.startswith(".")
            assert inside or top in sys.stdlib_module_names, f"{path.name} imports {module}"


def test_importing_the_engine_loads_no_django_module():
    code = (
        "import sys\n"
        "import kapflow.measures.instruments.builtin, kapflow.measures.instruments.definitions\n"
        "import kapflow.measures.instruments.scoring, kapflow.measures.instruments.model\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))\n"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
