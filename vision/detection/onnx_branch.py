"""Turn an exported graph with a fast and an exact set of outputs into one graph with an ONNX ``If``.

The torch exporter traces both ways of computing the outputs; this moves the nodes only the exact way
needs into the ``else`` branch, so the engine runs them only when the fast way's condition is False.
The branches read the main graph's tensors by name (ONNX outer scope).
"""

from __future__ import annotations

from collections.abc import Sequence

import onnx
from onnx import helper


def _ancestors(graph: onnx.GraphProto, names: Sequence[str]) -> set[int]:
    """Indices of the nodes that the tensors ``names`` depend on."""
    producer = {out: i for i, node in enumerate(graph.node) for out in node.output}
    found: set[int] = set()
    todo = [producer[n] for n in names if n in producer]
    while todo:
        i = todo.pop()
        if i in found:
            continue
        found.add(i)
        todo.extend(producer[n] for n in graph.node[i].input if n in producer)
    return found


def branch_on(
    model: onnx.ModelProto,
    condition: str,
    fast: Sequence[str],
    exact: Sequence[str],
    names: Sequence[str],
    other_outputs: Sequence[str],
) -> onnx.ModelProto:
    """Outputs ``names`` = ``fast`` where ``condition`` holds, else ``exact``; graph outputs become
    ``names`` + ``other_outputs`` (the exported outputs ``fast``, ``exact`` and ``condition`` go)."""
    graph = model.graph
    kept = _ancestors(graph, [*fast, condition, *other_outputs])
    exact_only = sorted(_ancestors(graph, exact) - kept)
    outputs = {o.name: o for o in graph.output}

    def info(source: str, name: str) -> onnx.ValueInfoProto:
        copy = onnx.ValueInfoProto()
        copy.CopyFrom(outputs[source])
        copy.name = name
        return copy

    then_branch = helper.make_graph(
        [helper.make_node("Identity", [f], [f"{f}_then"]) for f in fast], "fast",
        [], [info(f, f"{f}_then") for f in fast])
    else_branch = helper.make_graph([graph.node[i] for i in exact_only], "exact", [],
                                    [info(e, e) for e in exact])
    main_nodes = [node for i, node in enumerate(graph.node) if i not in set(exact_only)]
    main_nodes.append(helper.make_node("If", [condition], list(names), then_branch=then_branch,
                                       else_branch=else_branch))
    new_outputs = [info(e, n) for e, n in zip(exact, names, strict=True)] + [outputs[o] for o in other_outputs]
    del graph.node[:]
    graph.node.extend(main_nodes)
    del graph.output[:]
    graph.output.extend(new_outputs)
    onnx.checker.check_model(model)
    return model
