"""OpenVINO: the exported ONNX graph run as it is (bf16 where the CPU has it natively, else fp32), and
its static int8 form quantised by NNCF, OpenVINO's own quantiser (the one optimum-intel and
sentence-transformers' `export_static_quantized_openvino_model` call).

Static int8 scales are calibrated once on news passages, so unlike ONNX Runtime's dynamic int8 a
text's vector does not depend on the texts batched with it, and batches are used.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

INT8_FILE = "model-openvino-int8.xml"  # with its weights beside it (.bin)


def available() -> bool:
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


class OpenVinoGraph:
    """A compiled OpenVINO model; one inference request per calling thread (requests are not shared)."""

    def __init__(self, path: Path, threads: int | None = None):
        try:
            import openvino as ov  # the runtime only: no conversion tools, nothing sent anywhere
        except ImportError as exc:
            raise RuntimeError("the openvino backends need the package: pip install openvino") from exc

        from .cpu import has_bf16

        core = ov.Core()
        config = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": threads or os.cpu_count() or 1}
        if not has_bf16():  # OpenVINO's own default where bf16 is native; f32 said explicitly elsewhere
            config["INFERENCE_PRECISION_HINT"] = "f32"
        self.model = core.compile_model(core.read_model(str(path)), "CPU", config)
        self.precision = self.model.get_property("INFERENCE_PRECISION_HINT").get_type_name()
        self.has_tokens = len(self.model.outputs) > 1
        self._local = threading.local()

    def _request(self):
        request = getattr(self._local, "request", None)
        if request is None:
            request = self._local.request = self.model.create_infer_request()
        return request

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        result = self._request().infer({"input_ids": ids, "attention_mask": mask})
        return np.array(result[self.model.output(0)], dtype=np.float32, copy=True)

    def with_tokens(self, ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        result = self._request().infer({"input_ids": ids, "attention_mask": mask})
        return (
            np.array(result[self.model.output(0)], dtype=np.float32, copy=True),
            np.array(result[self.model.output(1)], dtype=np.float32, copy=True),
        )


def quantise(source: Path, out: Path, tokens, texts: Sequence[str]) -> None:
    """NNCF post-training int8 of the ONNX graph at `source` into `out` (OpenVINO IR), calibrated on
    `texts` (news passages, one per sample, as the index embeds them). Its progress bars and log are
    kept off the terminal; its telemetry is off."""
    os.environ.setdefault("NNCF_CI", "1")  # NNCF otherwise sends usage telemetry by default
    import nncf
    import openvino as ov

    nncf.set_log_level(logging.ERROR)

    def sample(text: str) -> dict:
        ids, mask = tokens.batch([text])[:2]
        return {"input_ids": ids, "attention_mask": mask}

    model = ov.Core().read_model(str(source))
    with contextlib.redirect_stdout(io.StringIO()):  # NNCF's progress bars write to stdout
        quantised = nncf.quantize(
            model,
            nncf.Dataset(list(texts), sample),
            model_type=nncf.ModelType.TRANSFORMER,  # keeps softmax, layer norm and the like in float
            subset_size=len(texts),
        )
    ov.save_model(quantised, str(out))
