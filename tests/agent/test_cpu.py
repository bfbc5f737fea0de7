"""Which CPUs do bfloat16 in hardware, read from /proc/cpuinfo as recorded on real machines."""

import pytest

from agent.cpu import cpu_computes_bfloat16, cpuinfo_flags

# The development machine of 2026-12-01 (AMD EPYC, 2 vCPUs): AVX2, no AVX-512 at all. Abridged to the SIMD flags.
EPYC_AVX2 = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC
flags\t\t: fpu vme sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c avx2 bmi1 bmi2 sha_ni vaes vpclmulqdq rdpid fsrm
"""
# An Intel Sapphire Rapids (the machine the shipped adapter was trained on has avx512_bf16 too). Abridged.
SAPPHIRE_RAPIDS = """processor\t: 0
model name\t: Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz
flags\t\t: fpu sse2 avx avx2 avx512f avx512dq avx512bw avx512vl avx512_vnni avx512_bf16 amx_bf16 amx_tile amx_int8
"""
# An AVX-512 machine without the BF16 extension (Skylake-SP / Cascade Lake).
CASCADE_LAKE = "processor\t: 0\nflags\t\t: fpu sse2 avx avx2 avx512f avx512dq avx512bw avx512vl avx512_vnni\n"
# arm64 (Neoverse V1 / Graviton3): the feature list is called Features, and bf16 is its own word.
GRAVITON3 = "processor\t: 0\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp sve bf16 i8mm\n"


def test_cpuinfo_flags_reads_the_first_processor():
    assert "avx2" in cpuinfo_flags(EPYC_AVX2) and "avx512f" not in cpuinfo_flags(EPYC_AVX2)
    assert "bf16" in cpuinfo_flags(GRAVITON3)
    assert cpuinfo_flags("processor\t: 0\nmodel name\t: x\n") == set()


def test_bfloat16_in_hardware_only_with_the_extension():
    assert cpu_computes_bfloat16(cpuinfo_flags(SAPPHIRE_RAPIDS))
    assert cpu_computes_bfloat16(cpuinfo_flags(GRAVITON3))
    assert not cpu_computes_bfloat16(cpuinfo_flags(EPYC_AVX2))
    assert not cpu_computes_bfloat16(cpuinfo_flags(CASCADE_LAKE))  # AVX-512 alone is not enough


def test_this_machine_agrees_with_torch():
    """On x86 Linux the cpuinfo reading and torch's own AVX512-BF16 probe (cpuinfo library) say the same."""
    import platform

    import torch

    probe = getattr(torch.cpu, "_is_avx512_bf16_supported", None)
    if platform.machine() not in ("x86_64", "AMD64") or probe is None:
        pytest.skip("torch's probe is x86-only")
    assert cpu_computes_bfloat16() == probe()


def test_cuda_is_asked_of_torch_only_where_a_gpu_device_node_exists(monkeypatch):
    """Without /dev/nvidia* (or ROCm's /dev/kfd, WSL's /dev/dxg) torch cannot see a GPU, and fenrir's fast
    path must not pay ~1.5 s to import it to find that out; with one, torch decides."""
    import os
    import sys

    import torch

    from agent import cpu

    if not sys.platform.startswith("linux"):
        pytest.skip("the device nodes are Linux's")
    monkeypatch.setattr(cpu, "GPU_DEVICE_NODES", ("/nonexistent/nvidia0",))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # would be wrong to ask: there is no node
    assert cpu.cuda_available() is False
    monkeypatch.setattr(cpu, "GPU_DEVICE_NODES", (os.devnull,))  # a node exists: torch is asked
    assert cpu.cuda_available() is True
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert cpu.cuda_available() is False


def test_torch_gets_the_free_cores_and_the_fast_path_every_core_unless_the_user_chose(monkeypatch):
    import os

    import torch

    from agent.cpu import configure_threads, inference_threads

    before = torch.get_num_threads()
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    try:
        threads = configure_threads()
        assert 1 <= threads <= len(os.sched_getaffinity(0))
        assert torch.get_num_threads() == threads  # a torch already loaded is told
        assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
        assert "OMP_NUM_THREADS" not in os.environ
        assert inference_threads() == len(os.sched_getaffinity(0))  # its threads never spin: all cores
        monkeypatch.setenv("OMP_NUM_THREADS", "3")
        assert configure_threads() == 3 and inference_threads() == 3
    finally:
        torch.set_num_threads(before)
