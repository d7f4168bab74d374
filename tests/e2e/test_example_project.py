"""The README's example project runs, and its demo secret never shows."""

from __future__ import annotations

import shutil
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "quickstart"


def test_example_project_runs(project):
    shutil.copytree(EXAMPLE, project.root, dirs_exist_ok=True)
    result = project.bruin("run", "weather", env={"WEATHER_API_KEY": "demo-key-123456"})
    assert result.returncode == 0, result.output
    assert "warm cities: Cairo (35.2), Lisbon (24.5), Lima (17.8)" in result.stdout
    assert "posting the report to ****" in result.stdout
    assert "demo-key-123456" not in result.output and "demo-webhook-token" not in result.output
