"""Shape and parameter inference over a whole graph, pure Python, no TensorFlow.

`analyse(graph)` walks the graph in topological order, asks each node's spec
for its output shapes and parameter counts, and collects `Diagnostic`s keyed
by node id. It is recomputed after every edit, so it must stay fast
(bench/bench_inference.py: 1,000 nodes well under 20 ms); `reanalyse` gives
the same report after edits re-inferring only the nodes they affect (the
window's document uses it on big graphs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Optional

from studio.core.errors import CycleError
from studio.core.text import shorten, show_int
from studio.graph.model import Graph
from studio.graph.spec import MAX_INT, Shape, ShapeError

ERROR, WARNING, INFO = "error", "warning", "info"


@dataclass(frozen=True)
class Diagnostic:
    node: Optional[str]  # None: about the whole graph
    severity: str  # "error" | "warning" | "info"
    message: str
    key: Optional[str] = None  # the parameter at fault, if any

    def to_dict(self) -> dict:
        return {"node": self.node, "severity": self.severity, "message": self.message}


@dataclass
class ShapeReport:
    # Output shapes per node (one per output port); None when unknown.
    outputs: dict[str, Optional[list]] = field(default_factory=dict)
    # Input shapes per node, in port order (None entries are unknown).
    inputs: dict[str, list] = field(default_factory=dict)
    # (trainable, non_trainable) per node; None when unknown.
    params: dict[str, Optional[tuple[int, int]]] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    order: list[str] = field(default_factory=list)
    # Nodes calling another node's layer (graph/sharing.py) -> that node: their weights
    # are the owner's, so the totals count them once.
    shared: dict[str, str] = field(default_factory=dict)
    # Each node's own diagnostics (before those about sharing and the whole graph), for
    # `reanalyse` to reuse those of the nodes an edit leaves alone.
    node_diagnostics: dict[str, list] = field(default_factory=dict, compare=False, repr=False)
    graph_diagnostics: list = field(default_factory=list, compare=False, repr=False)  # about the whole graph

    @property
    def ok(self) -> bool:
        return not any(d.severity == ERROR for d in self.diagnostics)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == ERROR]

    def for_node(self, node_id: str) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.node == node_id]

    def severity_of(self, node_id: str) -> Optional[str]:
        worst = None
        rank = {INFO: 0, WARNING: 1, ERROR: 2}
        for d in self.diagnostics:
            if d.node == node_id and (worst is None or rank[d.severity] > rank[worst]):
                worst = d.severity
        return worst

    @property
    def trainable_params(self) -> int:
        shared = self.shared
        return sum(p[0] for nid, p in self.params.items() if p and nid not in shared)

    @property
    def non_trainable_params(self) -> int:
        shared = self.shared
        return sum(p[1] for nid, p in self.params.items() if p and nid not in shared)

    @property
    def total_params(self) -> int:
        return self.trainable_params + self.non_trainable_params


def format_shape(shape: Optional[Shape]) -> str:
    """'(None, 28, 28, 1)' with '?' for a shape not known at all."""
    if shape is None:
        return "?"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _empty_named_port(names: tuple[str, ...], edges: list) -> Optional[tuple[str, str]]:
    """(empty port, a later wired port) when a layer with named ports has a gap before a wire.

    The inputs are passed in port order, so a gap would shift the later ones into the
    wrong place (MultiHeadAttention's key taken as its value)."""
    if not names:
        return None
    wired = {e.target_port for e in edges}
    for port in sorted(wired):
        for earlier in range(port):
            if earlier not in wired and earlier < len(names) and port < len(names):
                return names[earlier], names[port]
    return None


def _huge_dim(shapes: list, trainable: int, non_trainable: int) -> Optional[str]:
    """What is too large to be real in a layer's output (a size beyond 64 bits, from
    sizes multiplied layer after layer), or None. Keeps every number printable."""
    if trainable > MAX_INT or non_trainable > MAX_INT:
        return f"it would have {show_int(trainable + non_trainable)} parameters"
    for shape in shapes:
        for d in shape:
            if d is not None and not -MAX_INT <= d <= MAX_INT:
                return f"its output would have a dimension of {show_int(d)}"
    return None


def analyse(graph: Graph, external: dict[str, tuple[list, tuple[int, int]]] | None = None) -> ShapeReport:
    """Infer every node's shapes and parameters and collect diagnostics.

    `external` maps node ids of opaque nodes (layers outside the catalog) to
    `(output_shapes, (trainable, non_trainable))` computed by Keras elsewhere.
    """
    return _analyse(graph, external or {}, None, set(), True)


def reanalyse(graph: Graph, previous: ShapeReport, changed: Iterable[str], structure: bool = True,
              external: dict[str, tuple[list, tuple[int, int]]] | None = None) -> ShapeReport:
    """The report `analyse(graph, external)` gives, computed from `previous` (the report
    of the graph before some edits, with the same `external`) by inferring again only
    the nodes in `changed` (nodes added, edited, or whose wires changed) and the nodes
    downstream of them whose inputs or upstream labels changed. `structure`: nodes or
    wires were added or removed since `previous` (the order is recomputed).

    An edit in a 5,000-layer graph re-infers the layers it affects, not the graph
    (tests/graph/test_big_incremental.py compares it with `analyse` after many edits)."""
    if (graph.nodes and not previous.order) or previous.shared or any(n.shares for n in graph.nodes):
        return analyse(graph, external)  # a loop before, or shared layers: the plain way
    return _analyse(graph, external or {}, previous, set(changed), structure)


def _analyse(graph: Graph, external: dict, previous: Optional[ShapeReport], dirty: set[str],
             structure: bool) -> ShapeReport:
    report = ShapeReport()
    diags = report.diagnostics
    if previous is None or structure:
        try:
            order = graph.topological_order()
        except CycleError as exc:
            diags.append(Diagnostic(exc.node_id, ERROR, f"{exc}; remove one of the wires in the loop"))
            for node in graph.nodes:
                report.outputs[node.id] = None
                report.params[node.id] = None
            return report
    else:
        order = previous.order
    report.order = order

    nodes = {n.id: n for n in graph.nodes}
    catalog = graph.catalog
    outputs, inputs, params, by_node = report.outputs, report.inputs, report.params, report.node_diagnostics
    if previous is not None:
        old_outputs, old_inputs, old_params, old_diags = (previous.outputs, previous.inputs, previous.params,
                                                          previous.node_diagnostics)
        changed = set(dirty)  # edited; `dirty` grows with what they reach
    if previous is not None and not structure:
        # The same nodes and wires: the previous results, the edited nodes inferred again in
        # order, and with them the nodes they reach whose inputs changed.
        outputs.update(old_outputs)
        inputs.update(old_inputs)
        params.update(old_params)
        by_node.update(old_diags)
        for nid in order:
            if nid in dirty:
                _infer_node(report, nid, nodes[nid], nodes, graph.positional_inputs(nid), catalog, external)
                if nid in changed or outputs[nid] != old_outputs.get(nid):
                    dirty.update(e.target for e in graph.outputs_of(nid))
        for nid in order:
            diags.extend(by_node[nid])
        report.graph_diagnostics = previous.graph_diagnostics  # no Input, no output: as before
        diags.extend(report.graph_diagnostics)
        return report
    n_inputs = 0
    for nid in order:
        node = nodes[nid]
        if previous is not None and nid not in dirty and nid in old_diags:  # as before: reuse
            outputs[nid] = old_outputs[nid]
            inputs[nid] = old_inputs[nid]
            params[nid] = old_params[nid]
            by_node[nid] = old_diags[nid]
            spec = catalog.find(node.type)
            n_inputs += spec is not None and spec.max_inputs == 0
            continue
        n_inputs += _infer_node(report, nid, node, nodes, graph.positional_inputs(nid), catalog, external)
        # What the nodes it feeds see of it: its output shapes and, when edited, its label
        # (in their messages).
        if previous is not None and (nid in changed or outputs[nid] != old_outputs.get(nid)):
            dirty.update(e.target for e in graph.outputs_of(nid))
    for nid in order:
        diags.extend(by_node[nid])

    if any(n.shares for n in nodes.values()):
        from studio.graph.sharing import check_sharing

        check_sharing(graph, report)
    whole = report.graph_diagnostics
    if nodes and n_inputs == 0:
        whole.append(Diagnostic(None, ERROR, "the model has no Input layer; add one from the Input category"))
    if nodes and not graph.output_nodes():
        whole.append(Diagnostic(None, ERROR, "the model has no output; wire a layer after the Input"))
    diags.extend(whole)
    return report


def _infer_node(report: ShapeReport, nid: str, node, nodes: dict, edges: list, catalog, external: dict) -> bool:
    """Infer one node from its inputs' outputs in `report`; True if it is an Input."""
    outputs = report.outputs
    diags: list[Diagnostic] = []
    report.node_diagnostics[nid] = diags
    label = shorten(node.title or node.type)
    is_input = False
    in_shapes = []
    known = True
    for e in edges:
        src = outputs.get(e.source)
        if src is None or e.source_port >= len(src):
            known = False
            in_shapes.append(None)
            if src is not None:  # the port went away, e.g. return_state turned off
                source = shorten(nodes[e.source].title or nodes[e.source].type)
                diags.append(Diagnostic(
                    nid, ERROR,
                    f"'{label}' is wired to output {e.source_port} of '{source}', which now has only "
                    f"{len(src)} output{'s' if len(src) > 1 else ''}; rewire it or turn that output back on "
                    "(e.g. return_state)"))
        else:
            in_shapes.append(src[e.source_port])
    report.inputs[nid] = in_shapes
    spec = catalog.find(node.type)
    if spec is None:
        ext = external.get(nid)
        if ext is None:
            outputs[nid] = None
            report.params[nid] = None
            diags.append(
                Diagnostic(
                    nid,
                    WARNING,
                    f"'{label}' is a {shorten(node.type)} layer, which this version does not know; "
                    "it is kept unchanged and its shape comes from Keras",
                )
            )
        else:
            outputs[nid] = [tuple(s) for s in ext[0]]
            report.params[nid] = tuple(ext[1])
            diags.append(
                Diagnostic(nid, INFO, f"'{label}' ({shorten(node.type)}) is outside the catalog; "
                                      "Keras computed its shape and parameters")
            )
        return is_input

    if spec.max_inputs == 0:
        is_input = True
    resolved, problems = spec.validate(node.params)
    for key, message in problems:
        diags.append(Diagnostic(nid, ERROR, f"{label}: {message}", key))
    if len(edges) < spec.min_inputs:
        need = spec.min_inputs
        have = len(edges)
        if have == 0:
            msg = f"'{label}' has no input; wire a layer's output into it"
        else:
            msg = f"'{label}' needs at least {need} inputs but has {have}; wire another layer into it"
        diags.append(Diagnostic(nid, ERROR, msg))
        outputs[nid] = None
        report.params[nid] = None
        return is_input
    gap = _empty_named_port(spec.input_names, edges)
    if gap is not None:
        empty, wired = gap
        diags.append(Diagnostic(
            nid, ERROR,
            f"'{label}' has its '{wired}' port wired but not its '{empty}' port; wire the {empty} too "
            f"(or move the wire from '{wired}' to '{empty}')"))
        outputs[nid] = None
        report.params[nid] = None
        return is_input
    if problems or not known:
        outputs[nid] = None
        report.params[nid] = None
        return is_input
    try:
        shapes = spec.infer_shape(resolved, in_shapes)
        trainable, non_trainable = spec.count_params(resolved, in_shapes)
    except ShapeError as exc:
        diags.append(Diagnostic(nid, ERROR, f"{label}: {exc}"))
        outputs[nid] = None
        report.params[nid] = None
        return is_input
    except (TypeError, ValueError, ArithmeticError, IndexError, KeyError) as exc:
        # A parameter whose value the spec does not model closely ("json"
        # kind: padding, factors...) can still be malformed.
        diags.append(Diagnostic(
            nid, ERROR, f"{label}: the parameters do not make a valid {shorten(node.type)} layer "
            f"({type(exc).__name__}: {shorten(str(exc))}); check each value in the inspector"))
        outputs[nid] = None
        report.params[nid] = None
        return is_input
    huge = _huge_dim(shapes, trainable, non_trainable)
    if huge is not None:
        diags.append(Diagnostic(nid, ERROR, f"{label}: {huge}; make the layer or its input smaller"))
        outputs[nid] = None
        report.params[nid] = None
        return is_input
    outputs[nid] = [tuple(s) for s in shapes]
    if not node.trainable:
        trainable, non_trainable = 0, trainable + non_trainable
    report.params[nid] = (trainable, non_trainable)
    for severity, message in spec.advise(resolved, in_shapes):
        diags.append(Diagnostic(nid, severity, f"{label}: {message}"))

    return is_input
