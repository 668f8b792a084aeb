"""Profiles of one backup and one restore with py-spy (sampling, native speed): top functions by own time.

py-spy is an optional tool (``pip install py-spy``); without it the profile is reported as unavailable.
"""

from __future__ import annotations

import collections
import re
import shutil
import subprocess
from pathlib import Path


def top_lines(raw: str, count: int = 15) -> list[str]:
    """From py-spy's collapsed stacks: the functions with the most samples on top of the stack (own time),
    and each one's share of all samples."""
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, samples = line.rpartition(" ")
        if not stack or not samples.isdigit():
            continue
        n = int(samples)
        total += n
        own[re.sub(r":\d+\)$", ")", stack.split(";")[-1])] += n  # one line per function, not per line
    return [f"{n / total:6.1%}  {frame}" for frame, n in own.most_common(count)] if total else []


def profile(cmd: list[str], out: Path) -> list[str]:
    """Run ``cmd`` under py-spy; write the collapsed stacks to ``out`` and return the top lines."""
    spy = shutil.which("py-spy") or str(Path(cmd[0]).parent / "py-spy")
    if not Path(spy).exists():
        return ["py-spy not installed (pip install py-spy): no profile"]
    result = subprocess.run([spy, "record", "--rate", "250", "--format", "raw", "--nonblocking", "-o", str(out),
                             "--", *cmd], capture_output=True, text=True, check=False)
    if result.returncode != 0 or not out.exists():
        return [f"py-spy failed: {(result.stderr or result.stdout).strip()[-200:]}"]
    return top_lines(out.read_text())
