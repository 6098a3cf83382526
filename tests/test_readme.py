"""The README's pytest example is a real test file: it runs green with the shipped fixtures
(issue 16: "a complete pytest example using the shipped fixtures")."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def test_the_readme_pytest_example_passes(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("A complete test file", 1)[1]
    example = re.search(r"```python\n(.*?)```", section, re.S)
    assert example is not None, "the README lost its pytest example"
    path = tmp_path / "test_my_integration.py"
    path.write_text(example.group(1))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error",
         str(path)], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert re.search(r"\b3 passed\b", result.stdout), result.stdout[-1000:]


def test_the_readme_table_count_is_the_served_one(snow_admin: object) -> None:
    """The README says how many tables are served (issue 13): ``sys_db_object``'s count."""
    import httpx

    assert isinstance(snow_admin, httpx.Client)
    readme = (ROOT / "README.md").read_text()
    said = re.search(r"serves \*\*(\d+) tables\*\*", readme)
    assert said is not None, "the README no longer says how many tables are served"
    served = snow_admin.get("/api/now/table/sys_db_object", params={"sysparm_limit": "1"})
    assert said.group(1) == served.headers["X-Total-Count"]
    docs = (ROOT / "docs" / "table-api.md").read_text()
    assert f"X-Total-Count: {said.group(1)}`" in docs
