"""conflicts.py and planner.py are pure: standard library only, never Django."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import kapflow.scheduling as package
from tests.screening.test_rules_and_gate_are_pure import imported_modules

MODULES = [Path(package.__file__).parent / name for name in ("conflicts.py", "planner.py")]


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.name)
def test_the_module_imports_only_the_standard_library(path):
    modules = imported_modules(path)
    assert modules, "parsed nothing"
    for module in modules:
        top = module.split(".")[0]
        assert top != "django", f"{path.name} imports {module}"
        assert top in sys.stdlib_module_names or module == "__future__", f"{path.name} imports {module}"


def test_importing_the_modules_loads_no_django_module():
    code = (
        "import sys\n"
        "import kapflow.scheduling.conflicts, kapflow.scheduling.planner\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))\n"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
