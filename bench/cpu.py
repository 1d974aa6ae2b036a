"""The machine's busy CPU time, read where the load generator runs (bench/swarm.py), so that
what the servers used can be told from what the generator did on the same cores."""

from __future__ import annotations

import os
from pathlib import Path


def busy_cpu_seconds() -> float:
    """The CPU time the whole machine has spent busy since it started (/proc/stat's first
    line: all but idle and waiting for disks), in seconds."""
    ticks = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, ticks)
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
