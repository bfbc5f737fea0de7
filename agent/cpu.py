"""How one inference process uses the CPU: threads that sleep when idle, and no more than are free.

torch runs its CPU kernels on OpenMP threads (one per core) that spin while
they wait for work, and numpy's OpenBLAS (the fast path) keeps its threads
busy-waiting for a while too.  On a machine whose cores are busy with other
processes that spinning competes with the work itself: measured on the
2-core shared development machine (load 5-8), ``fenrir --no-check "list
python files"`` spent 12-15 s generating with torch's defaults and ~2.5-4 s
with ``OMP_WAIT_POLICY=PASSIVE`` or a single thread.
:func:`configure_threads` applies both remedies to torch, unless the user set
them.  The numpy fast path keeps OpenBLAS to one thread and runs its own
threads, which block instead of spinning (:class:`agent.fast.llama.Workers`).
"""

from __future__ import annotations

import os
import sys


def free_cores(cores: int, load: float) -> int:
    """Cores left over by the 1-minute load average (at least one, at most ``cores``)."""
    return max(1, min(cores, int(cores - load + 0.5)))


def process_cores() -> int:
    """Cores this process may run on (its affinity on Linux, else every core)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def inference_threads() -> int:
    """Threads the fast path (:class:`agent.fast.llama.Workers`) uses: ``OMP_NUM_THREADS`` when set, else every
    core of this process.

    Every core even on a busy machine: these threads block while they wait
    (no spinning, unlike OpenMP's or OpenBLAS's own), so a busy core costs
    only the share the scheduler gives.  Measured on the 2-core machine with
    two other processes running: a 4-row decode step took 121-142 ms on two
    threads, 135-214 ms on one."""
    if os.environ.get("OMP_NUM_THREADS", "").isdigit():
        return max(1, int(os.environ["OMP_NUM_THREADS"]))
    return process_cores()


_torch_threads: int | None = None
"""The thread count :func:`configure_threads` chose for torch, applied when torch is imported later."""


def configure_threads() -> int:
    """Set up torch's CPU threads for this process; returns the thread count chosen for it.

    ``OMP_WAIT_POLICY`` defaults to ``PASSIVE`` (read once, when torch loads
    OpenMP: call this before importing torch).  Without ``OMP_NUM_THREADS``
    set, torch gets one thread per core not already busy by the load average
    (all cores on an idle machine, one on a loaded one): now if torch is
    loaded, else through :func:`apply_torch_threads` once something imports
    it.  The fast path (:mod:`agent.fast`) does not need this: its threads
    block instead of spinning, so it uses every core (or ``OMP_NUM_THREADS``)
    without slowing a busy machine; see :func:`inference_threads`.
    """
    global _torch_threads
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    if os.environ.get("OMP_NUM_THREADS", "").isdigit():
        return int(os.environ["OMP_NUM_THREADS"])
    cores = process_cores()
    try:
        _torch_threads = free_cores(cores, os.getloadavg()[0])
    except OSError:
        _torch_threads = cores
    if "torch" in sys.modules:
        apply_torch_threads()
    return _torch_threads


def apply_torch_threads() -> None:
    """Give torch the thread count :func:`configure_threads` chose, if it chose one (call after importing torch)."""
    if _torch_threads is not None:
        import torch

        torch.set_num_threads(_torch_threads)


GPU_DEVICE_NODES = ("/dev/nvidiactl", "/dev/nvidia0", "/dev/kfd", "/dev/dxg")
"""Device files a Linux machine has when a CUDA (or ROCm, or WSL) GPU can be used."""


def cuda_available() -> bool:
    """``torch.cuda.is_available()``, without importing torch (~1.5 s) on a Linux machine that has no GPU
    device node at all, or on macOS (no CUDA builds): the common case of ``fenrir "REQUEST"`` on a laptop
    or CI machine, which then takes the numpy fast path."""
    if sys.platform == "darwin" or (sys.platform.startswith("linux")
                                    and not any(os.path.exists(node) for node in GPU_DEVICE_NODES)):
        return False
    import torch

    return torch.cuda.is_available()


BFLOAT16_FLAGS = ("avx512_bf16", "amx_bf16")
"""``/proc/cpuinfo`` flags of the x86 extensions that do bfloat16 arithmetic in hardware."""


def cpuinfo_flags(text: str) -> set[str]:
    """The feature flags of the first processor in a ``/proc/cpuinfo`` text (``flags`` or arm's ``Features``)."""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return set(value.split())
    return set()


def cpu_computes_bfloat16(flags: set[str] | None = None) -> bool:
    """Whether this CPU does bfloat16 arithmetic in hardware (AVX512-BF16, AMX-BF16, or arm's BF16).

    Without it torch emulates bfloat16, and a model in bfloat16 is far slower
    than in float32.  Measured on a 2-core AMD EPYC with AVX2 only (torch
    2.13): a 512x576 by 576x1536 matmul takes 781 ms in bfloat16 against
    6.6 ms in float32, and one training step of ``training/default.yaml``
    257 s against 17.5 s (``bench/train.py``).  ``flags``: as :func:`cpuinfo_flags` reads them
    (default: this machine's; where there is no ``/proc/cpuinfo``, torch's own
    AVX512-BF16 check).
    """
    if flags is None:
        try:
            with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
                flags = cpuinfo_flags(handle.read())
        except OSError:
            import torch

            check = getattr(getattr(torch, "cpu", None), "_is_avx512_bf16_supported", None)
            return bool(check and check())
    return any(flag in flags for flag in BFLOAT16_FLAGS) or "bf16" in flags
