"""What the CPU can do, as far as the choice of an embedding path depends on it.

The int8 and bf16 kernels ONNX Runtime and OpenVINO pick depend on the instruction set (AVX2 rounds
int8 products differently from AVX-512 VNNI or AMX) and on the runtimes' versions, so a prepared model
is checked on the machine it runs on: its cache folder is keyed on `key()`, and its manifest records
`features()` to compare with on load.
"""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
import sys
from functools import cache
from importlib import metadata
from pathlib import Path

# Flags that change which int8/bf16 kernels the runtimes use (x86 names from /proc/cpuinfo; ARM ones
# from its "Features" line; macOS reports the same through sysctl).
RELEVANT = (
    "avx2",
    "fma",
    "avx512f",
    "avx512bw",
    "avx512_vnni",
    "avx_vnni",
    "avx512_bf16",
    "amx_tile",
    "amx_int8",
    "amx_bf16",
    "asimd",
    "asimddp",
    "i8mm",
    "bf16",
    "sve",
)
RUNTIMES = ("onnxruntime", "openvino", "nncf")


@cache
def features() -> dict:
    """The architecture, the relevant instruction-set flags and the runtimes' versions."""
    flags = _flags()
    versions = {}
    for name in RUNTIMES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    found = {
        "machine": platform.machine().lower().replace("-", "_"),
        "flags": sorted(f for f in RELEVANT if f in flags),
        "runtimes": versions,
    }
    # oneDNN (inside OpenVINO) honours an instruction-set cap: its kernels then differ like another CPU's
    cap = os.environ.get("ONEDNN_MAX_CPU_ISA") or os.environ.get("DNNL_MAX_CPU_ISA")
    if cap:
        found["isa_cap"] = cap
    return found


def key(found: dict | None = None) -> str:
    """A short name for these features (part of the prepared model's folder name)."""
    found = found or features()
    text = f"{found['machine']}:{','.join(found['flags'])}:{sorted(found['runtimes'].items())}"
    text += f":{found['isa_cap']}" if "isa_cap" in found else ""
    return f"{found['machine']}-{hashlib.sha1(text.encode()).hexdigest()[:8]}"


def describe(found: dict | None = None) -> str:
    found = found or features()
    capped = f", capped to {found['isa_cap']}" if "isa_cap" in found else ""
    return f"{found['machine']} ({' '.join(found['flags']) or 'no SIMD flags found'}{capped})"


def has_bf16(found: dict | None = None) -> bool:
    """Native bf16 arithmetic (OpenVINO then runs bf16 by default; elsewhere bf16 is emulated, slower),
    and not capped away (an ISA cap below AVX512_CORE_BF16 leaves oneDNN without bf16 kernels)."""
    found = found or features()
    cap = found.get("isa_cap", "").upper()
    return bool({"avx512_bf16", "amx_bf16", "bf16"} & set(found["flags"])) and (
        not cap or "BF16" in cap or "AMX" in cap
    )


def _flags() -> set[str]:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():  # Linux: "flags" on x86, "Features" on ARM
        for line in cpuinfo.read_text(errors="replace").splitlines():
            name, _, value = line.partition(":")
            if name.strip() in ("flags", "Features"):
                return set(value.split())
        return set()
    if sys.platform == "darwin":
        try:
            out = subprocess.run(
                ["sysctl", "-a"], capture_output=True, text=True, timeout=5, check=False
            ).stdout
        except OSError:
            return set()
        found = {
            line.split(":")[0].rsplit(".", 1)[-1].lower() for line in out.splitlines() if line.endswith(": 1")
        }
        aliases = {"feat_dotprod": "asimddp", "feat_i8mm": "i8mm", "feat_bf16": "bf16", "adv_simd": "asimd"}
        return {aliases.get(f, f) for f in found}
    return set()
