"""How busy this machine is, for the few tests whose latency bounds depend on it.

The 1-minute load average lags: a CPU burner started a few seconds ago does not show in it yet,
while it already delays every process. So the measure is the larger of the load average and
the tasks runnable right now (``procs_running`` in ``/proc/stat``), against the core count.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["machine_busy", "runnable"]


def runnable() -> float:
    """The larger of the 1-minute load average and the tasks runnable at this instant."""
    running = 0
    try:
        for line in Path("/proc/stat").read_text().splitlines():
            if line.startswith("procs_running "):
                running = int(line.split()[1])
                break
    except OSError:  # not Linux: the load average alone
        pass
    return max(os.getloadavg()[0], float(running))


def machine_busy() -> bool:
    """More runnable tasks than cores: scheduling alone then delays a process by tens of ms."""
    return runnable() > (os.cpu_count() or 1)
