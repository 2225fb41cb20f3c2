"""Process-wide settings that only an entry point (the CLI, the app, a bench script) may choose.

Library modules never change the process when imported. What cannot be scoped to one call is set here, by the
program that owns the process, before torch loads: OpenMP reads its variables once, when the library loads.
"""

from __future__ import annotations

import os
import sys


def prefer_passive_openmp() -> bool:
    """Let idle OpenMP threads sleep rather than spin (OMP_WAIT_POLICY=PASSIVE, unless the environment already
    chooses): on a machine whose cores other processes share, spinning threads waiting for each other turned a
    15 ms query into hundreds (docs/benchmarks.md). Returns False when torch is already loaded (too late)."""
    if "torch" in sys.modules:
        return False
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return True
