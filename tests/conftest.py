"""Shared test setup: one thread of torch per xdist worker (sleeping, not spinning, when idle), no progress bars."""

import os

os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1" if os.environ.get("PYTEST_XDIST_WORKER") else "2")
# OpenMP threads that spin while waiting fight other processes for the cores (see agent/cpu.py)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
