"""Rewrites of the exported fp32 graph that make its int8 form faster or closer to fp32.

Both keep the fp32 graph's function (checked by the exporter on news text before it quantises):

- `fuse_attention`: each BERT self-attention block (query, key and value projections, the score
  matrix, softmax, context) becomes one ONNX Runtime `Attention` operator, which quantises to
  `QAttention`: one int8 matrix product for query, key and value together, and no transposes.
- `split_outliers`: in each feed-forward block a handful of channels (the same ones on every text:
  the [CLS] token's, calibrated on news) reach 4-5 times the others' values. Dynamic int8 scales a
  whole activation matrix by its largest value, so those few channels cost every other value most of
  its precision; this is why the output projections were kept fp32. Moving them into a small fp32
  side path (up projection, GELU, down projection over those channels alone, added back) leaves the
  big matrices with well-scaled activations, and every one of them int8.
"""

from __future__ import annotations

import re
from collections import defaultdict

import numpy as np

ATTENTION = re.compile(r"layer\.(\d+)/attention/self/query/MatMul$")


def fuse_attention(model, num_heads: int) -> int:
    """Replace each self-attention block of a BERT-like export with one `Attention` operator; returns
    how many were fused (0 when the graph does not have the expected shape; nothing changes then)."""
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    inputs = {i.name for i in graph.input}
    if num_heads <= 0 or "attention_mask" not in inputs:
        return 0
    initialisers = {i.name: i for i in graph.initializer}
    nodes = list(graph.node)
    by_name = {n.name: n for n in nodes}
    consumers: dict[str, list] = defaultdict(list)
    for node in nodes:
        for name in node.input:
            consumers[name].append(node)
    fused: dict[str, object] = {}  # name of the query projection -> the Attention node taking its place
    weights = []  # added to the graph only once every block has matched
    for layer in sorted({m.group(1) for n in nodes if (m := ATTENTION.search(n.name))}, key=int):
        prefix = next(n.name for n in nodes if n.name.endswith(f"layer.{layer}/attention/self/query/MatMul"))
        prefix = prefix[: -len("query/MatMul")]
        projections = [by_name.get(f"{prefix}{part}/MatMul") for part in ("query", "key", "value")]
        dense = by_name.get(prefix.replace("/self/", "/output/") + "dense/MatMul")
        if dense is None or any(p is None or p.input[1] not in initialisers for p in projections):
            return 0
        biases = []
        for projection in projections:
            adds = [c for c in consumers[projection.output[0]] if c.op_type == "Add"]
            bias = [name for add in adds for name in add.input if name in initialisers]
            if len(adds) != 1 or len(bias) != 1:
                return 0
            biases.append(bias[0])
        if len({p.input[0] for p in projections}) != 1:
            return 0
        weight = np.concatenate([numpy_helper.to_array(initialisers[p.input[1]]) for p in projections], 1)
        bias = np.concatenate([numpy_helper.to_array(initialisers[b]) for b in biases])
        names = (f"attention_{layer}_qkv_weight", f"attention_{layer}_qkv_bias")
        weights += [numpy_helper.from_array(a, n) for a, n in zip((weight, bias), names, strict=True)]
        fused[projections[0].name] = helper.make_node(
            "Attention",
            [projections[0].input[0], *names, "attention_mask_int32"],
            [dense.input[0]],  # the context the output projection reads
            name=f"{prefix}Attention",
            domain="com.microsoft",
            num_heads=num_heads,
        )
    if not fused:
        return 0
    graph.initializer.extend(weights)
    replaced = {node.output[0] for node in fused.values()}
    mask = helper.make_node("Cast", ["attention_mask"], ["attention_mask_int32"], to=TensorProto.INT32)
    rebuilt = [mask]
    for node in nodes:
        if node.name in fused:
            rebuilt.append(fused[node.name])
        if not replaced.intersection(node.output):
            rebuilt.append(node)
    _replace_nodes(model, rebuilt)
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return len(fused)


def feed_forwards(graph) -> list[tuple]:
    """(up projection, BiasGelu, down projection) of each feed-forward block of an optimised graph."""
    producer = {out: node for node in graph.node for out in node.output}
    weights = {i.name for i in graph.initializer}
    blocks = []
    for down in graph.node:
        if down.op_type != "MatMul" or down.input[1] not in weights:
            continue
        gelu = producer.get(down.input[0])
        if gelu is None or gelu.op_type != "BiasGelu" or gelu.input[1] not in weights:
            continue
        up = producer.get(gelu.input[0])
        if up is not None and up.op_type == "MatMul" and up.input[1] in weights:
            blocks.append((up, gelu, down))
    return blocks


def split_outliers(model, channel_max: dict[str, np.ndarray], count: int) -> list[str]:
    """Move the `count` channels of largest calibrated activation out of each feed-forward block into
    an fp32 side path; returns the side path's matrix products (to keep out of quantisation).
    `channel_max` maps a block's down projection name to the largest |activation| of each channel."""
    from onnx import helper, numpy_helper

    graph = model.graph
    initialisers = {i.name: i for i in graph.initializer}

    def array(name: str) -> np.ndarray:
        return numpy_helper.to_array(initialisers[name])

    def put(name: str, value: np.ndarray) -> str:
        tensor = numpy_helper.from_array(np.ascontiguousarray(value), name)
        if name in initialisers:
            initialisers[name].CopyFrom(tensor)
        else:
            graph.initializer.append(tensor)
        return name

    side, added = [], {}
    for up, gelu, down in feed_forwards(graph):
        if down.name not in channel_max:
            continue
        largest = channel_max[down.name]
        outliers = np.sort(np.argsort(-largest)[:count])
        rest = np.setdiff1d(np.arange(len(largest)), outliers)
        w_up, b_up, w_down = array(up.input[1]), array(gelu.input[1]), array(down.input[1])
        put(up.input[1], w_up[:, rest])
        put(gelu.input[1], b_up[rest])
        put(down.input[1], w_down[rest])
        p = down.name.rsplit("/", 1)[0] + "/outliers"
        out, down.output[0] = down.output[0], f"{p}/rest"
        w_side = (
            put(f"{p}/up", w_up[:, outliers]),
            put(f"{p}/bias", b_up[outliers]),
            put(f"{p}/down", w_down[outliers]),
        )
        added[down.name] = [
            helper.make_node("MatMul", [up.input[0], w_side[0]], [f"{p}/h"], name=f"{p}/up"),
            helper.make_node(
                "BiasGelu", [f"{p}/h", w_side[1]], [f"{p}/a"], name=f"{p}/gelu", domain="com.microsoft"
            ),
            helper.make_node("MatMul", [f"{p}/a", w_side[2]], [f"{p}/y"], name=f"{p}/down"),
            helper.make_node("Add", [f"{p}/rest", f"{p}/y"], [out], name=f"{p}/add"),
        ]
        side += [f"{p}/up", f"{p}/down"]
    _replace_nodes(model, [n for node in list(graph.node) for n in (node, *added.get(node.name, ()))])
    return side


def with_outputs(model, names: list[str]):
    """A copy of the model that also outputs the named intermediate tensors (for calibration)."""
    from onnx import TensorProto, helper

    copy = type(model)()
    copy.CopyFrom(model)
    copy.graph.output.extend(helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in names)
    return copy


def _replace_nodes(model, nodes: list) -> None:
    """Set the graph's nodes, dropping those (and initialisers) nothing reads any more."""
    graph = model.graph
    wanted = {o.name for o in graph.output}
    while True:
        read = wanted | {name for node in nodes for name in node.input}
        live = [node for node in nodes if read.intersection(node.output)]
        if len(live) == len(nodes):
            break
        nodes = live
    del graph.node[:]
    graph.node.extend(nodes)
    live_weights = [i for i in graph.initializer if i.name in read]
    del graph.initializer[:]
    graph.initializer.extend(live_weights)
