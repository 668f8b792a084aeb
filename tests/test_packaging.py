"""What a plain (non-editable) `pip install .` gives a user: the package with its themes inside."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_non_editable_install_ships_the_themes(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               capture_output=True, text=True, check=True).stdout.strip())
    # Dependencies come from the test environment (a plain path entry: its editable finder is not loaded);
    # the project itself is built into a wheel and installed as a user would install it.
    (site / "deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site),
                              str(ROOT)], capture_output=True, text=True, cwd=tmp_path)
    assert install.returncode == 0, install.stderr[-2000:]
    code = ("import kafka_sre_tui, pathlib\n"
            "from kafka_sre_tui.tui.themes import load_project_themes\n"
            "print(pathlib.Path(kafka_sre_tui.__file__).parent)\n"
            "print(','.join(t.name for t in load_project_themes()))\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the wheel, not a source tree on the path
    run = subprocess.run([str(python), "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env, check=True)
    package_dir, names = run.stdout.split()
    assert Path(package_dir).is_relative_to(site), package_dir  # the installed copy, not the checkout
    assert names.split(",") == sorted(p.stem for p in (ROOT / "themes").glob("*.toml"))
