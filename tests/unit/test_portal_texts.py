"""The portal's texts: every key in English and Slovak, none overwritten by another module (portal/check-texts.mjs)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("node") is None, reason="node builds the portal; without it there is no portal")
def test_every_portal_text_exists_in_english_and_slovak() -> None:
    run = subprocess.run(
        ["node", str(ROOT / "portal" / "check-texts.mjs")], capture_output=True, text=True, timeout=60, check=False
    )
    assert run.returncode == 0, run.stderr
    assert "each in English and Slovak" in run.stdout
