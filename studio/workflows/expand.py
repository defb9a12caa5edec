"""Expand a backbone node to its layers (issue 13, point 2): "Shown as ONE group node that can be
expanded to its layers".

`expand_backbone(project, node_id)` builds the node's Keras model exactly as the compiler does
(`studio.hub.backbones.build_backbone`: its preprocessing, the application, the node's weights and
freeze settings), reads it back through the project's own importer (`studio.compiler.from_config`:
the same config -> graph path as `studio import`), checks that the layers rebuilt by our compiler
give the same answers, and returns an `Expansion`: plain data (nodes, wires, per-node weights) that
`expansion_edit` turns into ONE undoable edit on the live graph: the backbone node is replaced by
its layers, grouped under the backbone's name and shown collapsed, wired to the same neighbours.

Weights: the layers carry the weights the backbone node had: its stored weights (a run's, an
imported model's), else those of its weights file or ImageNet's. A backbone with weights "none" and
nothing stored keeps starting from random weights (its layers get none stored). Freezing: the
layers of a frozen backbone, or its first N layers ("freeze up to layer N"), are frozen nodes.

Keras and TensorFlow are imported inside the functions (the compiler and hub do it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from studio.core.errors import StudioError
from studio.core.ids import new_id
from studio.graph.edits import AddGroup, AddNode, Batch, Connect, Edit, RemoveNode
from studio.graph.layout import layered_positions
from studio.graph.model import Edge, Graph, Group, Node
from studio.workflows.hooks import CancelFlag, Progress, steps

BACKBONE = "Backbone"


class ExpandError(StudioError):
    """The backbone cannot be expanded; the message names the node and why."""


@dataclass
class Expansion:
    """A backbone's layers, ready to replace it (`expansion_edit`)."""

    node_id: str  # the backbone node
    name: str  # the group's name: the backbone's
    nodes: list[Node]  # its layers, with positions
    edges: list[Edge]  # wires among them and to the backbone's neighbours
    weights: dict = field(default_factory=dict)  # node id -> list of numpy arrays (get_weights order)
    origin: str = ""  # where those weights came from ("imported", "run ...", "file NAME", "imagenet")
    params: int = 0  # Keras' count of the backbone model
    max_abs_diff: float = 0.0  # the layers rebuilt by our compiler against the backbone model
    notes: list[str] = field(default_factory=list)


def expand_backbone(project: Any, node_id: str, *, step: Optional[Progress] = None,
                    cancel: Optional[CancelFlag] = None) -> Expansion:
    """The layers of backbone node `node_id` of `project` (see the module's doc)."""
    from studio.graph.inference import analyse
    from studio.hub.backbones import build_backbone

    graph = project.graph
    node = graph.node(node_id)
    label = graph.label(node_id)
    if node.type != BACKBONE:
        raise ExpandError(f"'{label}' is not a backbone node; only backbones expand to their layers")
    wires = graph.inputs_of(node_id)
    report = analyse(graph)
    shapes = report.inputs.get(node_id) or []
    if len(wires) != 1 or not shapes or shapes[0] is None or any(d is None for d in shapes[0][1:]):
        raise ExpandError(f"'{label}': wire an image input of known size into it first; its layers depend on "
                          "the input's height, width and channels")
    params = node.params
    name = str(params.get("backbone", "MobileNetV2"))
    step = steps(cancel, step, f"expanding {label}")
    step(f"building {name}")
    try:
        model = build_backbone(name, tuple(shapes[0][1:]), weights=params.get("weights", "none"),
                               weights_file=params.get("weights_file") or "", pooling=params.get("pooling", "avg"),
                               trainable=node.trainable, freeze_up_to=int(params.get("freeze_up_to") or 0),
                               layer_name="backbone", lr_multiplier=float(params.get("lr_multiplier", 1.0)))
    except StudioError as exc:
        raise ExpandError(f"'{label}': {exc}") from None
    stored = getattr(project, "weights", None)
    entry = stored.get(node_id) if stored is not None else None
    origin = ""
    if entry is not None:
        import numpy as np

        wanted = [tuple(w.shape) for w in model.weights]
        if wanted != [tuple(a.shape) for a in entry.arrays]:
            raise ExpandError(f"'{label}': its stored weights do not fit {name} with this input; reset its "
                              "weights or fix its input first")
        model.set_weights([np.frombuffer(a.data, dtype=a.dtype).reshape(a.shape) for a in entry.arrays])
        origin = entry.origin
    elif params.get("weights") == "file":
        origin = f"file {str(params.get('weights_file') or '').rsplit('/', 1)[-1]}"
    elif params.get("weights") == "imagenet":
        origin = "imagenet"
    notes = []
    if float(params.get("lr_multiplier", 1.0)) != 1.0:
        notes.append(f"the backbone's learning-rate multiplier ({params.get('lr_multiplier')}) does not carry over "
                     "to its layers: they train at the optimizer's rate (freeze them to keep them fixed)")
    if node.trainable and int(params.get("freeze_up_to") or 0):
        notes.append("the backbone ran its BatchNormalization layers in inference mode while part of it was "
                     "frozen; as layers, the unfrozen ones update their statistics in training")
    title = node.title or name
    expansion = expand_model(graph, node_id, model, title, step, keep_weights=bool(origin))
    expansion.origin = origin
    expansion.notes = notes + expansion.notes
    return expansion


def expand_model(graph: Graph, node_id: str, model: Any, name: str, step: Optional[Progress] = None,
                 keep_weights: bool = True) -> Expansion:
    """The layers of Keras `model` (one input, one output) as nodes to put in the place of node
    `node_id` of `graph`: read through the importer, rebuilt by our compiler and compared with
    `model` (a layer that would not come back the same raises `ExpandError`)."""
    from studio.compiler.from_config import ModelImportError, graph_from_config
    from studio.compiler.keras_build import build_model
    from studio.compiler.keras_import import TOLERANCE, keras_config
    from studio.compiler.plan import OP, make_plan
    from studio.export.verify import max_abs_diff, on_cpu, predict, sample_inputs

    step = step or (lambda _text: None)
    label = graph.label(node_id)
    step("turning its layers into a graph")
    try:
        imported = graph_from_config(model.get_config(), graph.catalog, keras_config)
    except ModelImportError as exc:
        raise ExpandError(f"'{label}': its layers cannot be read back: {exc}") from None
    sub = imported.graph
    if imported.placeholders:
        raise ExpandError(f"'{label}': layers {', '.join(imported.placeholders)} cannot be read back as layers")
    inputs = [n.id for n in sub.nodes if not sub.inputs_of(n.id) and sub.spec(n) is not None
              and sub.spec(n).max_inputs == 0]
    outputs = sub.output_nodes()
    if len(inputs) != 1 or len(outputs) != 1:
        raise ExpandError(f"'{label}': only a model with one input and one output expands in its place")
    step("checking that its layers give the same answers")
    plan = make_plan(sub, "expanded")
    rebuilt = build_model(plan)
    weights: dict[str, list] = {}
    for call in plan.calls:
        if call.is_input or call.call_style == OP or call.shares or call.node_id not in imported.origin:
            continue
        layer = model
        for part in imported.origin[call.node_id]:
            layer = layer.get_layer(part)
        values = layer.get_weights()
        if values:
            rebuilt.get_layer(call.name).set_weights(values)
            weights[call.node_id] = values
    x = sample_inputs(model, batch=2)
    with on_cpu():
        expected = predict(model, x)
        diff = max_abs_diff(expected, predict(rebuilt, x))
    scale = max([1.0] + [float(abs(e).max()) for e in expected if e.size])
    if rebuilt.count_params() != model.count_params() or not diff <= TOLERANCE * scale:
        raise ExpandError(f"'{label}': its layers, rebuilt, do not give the backbone's answers (max abs difference "
                          f"{diff:.3g}); it stays one node")
    nodes, edges = _place(graph, node_id, sub, inputs[0], outputs[0].id)
    return Expansion(node_id, name, nodes, edges, weights if keep_weights else {}, "", model.count_params(), diff,
                     list(imported.warnings))


def _place(graph: Graph, node_id: str, sub: Graph, input_id: str, output_id: str) -> tuple[list[Node], list[Edge]]:
    """The layers laid out left to right from where the node was (the collapsed group is drawn
    there; expanding it pushes the nodes after it clear, `SetGroupCollapsed`); the sub-model's Input
    replaced by what feeds the node, its output wired to the node's consumers."""
    anchor = graph.node(node_id).position
    positions = layered_positions(sub)
    members = [n for n in sub.nodes if n.id != input_id]
    x0, y0 = positions[members[0].id]
    nodes = []
    for n in members:
        x, y = positions[n.id]
        nodes.append(Node.from_dict({**n.to_dict(), "position": (anchor[0] + x - x0, anchor[1] + y - y0)}))
    (feed,) = graph.inputs_of(node_id)
    edges = []
    for e in sub.edges:
        if e.source == input_id:
            edges.append(Edge(feed.source, e.target, feed.source_port, e.target_port, *_argument(e)))
        else:
            edges.append(e)
    for e in graph.outputs_of(node_id):
        edges.append(Edge(output_id, e.target, 0, e.target_port, *_argument(e)))
    return nodes, edges


def _argument(edge: Edge) -> tuple:
    """The wire's keyword argument, where wires have one (`mask=`)."""
    argument = getattr(edge, "argument", "")
    return (argument,) if argument else ()


def expansion_edit(expansion: Expansion, store: Any = None) -> Edit:
    """ONE undoable edit: the backbone node out, its layers in (collapsed in one group named after
    it, wired to the same neighbours), their weights into `store` (the project's WeightStore)."""
    edits: list[Edit] = [RemoveNode(expansion.node_id)]
    edits += [AddNode(n) for n in expansion.nodes]
    edits += [Connect(e, check_shapes=False) for e in expansion.edges]
    edits.append(AddGroup(Group(new_id(), expansion.name, [n.id for n in expansion.nodes], collapsed=True)))
    if expansion.weights and store is not None:
        from studio.project.weights import SetWeights, WeightEntry

        edits.append(SetWeights(store, {n: WeightEntry.of(w, expansion.origin or "imported")
                                        for n, w in expansion.weights.items()}))
    return Batch(edits, f"Expand {expansion.name} to layers")


def result_line(expansion: Expansion) -> str:
    kept = f", with its weights ({expansion.origin})" if expansion.weights else ", random weights as before"
    return (f"Expanded {expansion.name} to {len(expansion.nodes)} layers, {expansion.params:,} parameters{kept}; "
            f"its layers give the same answers (max abs difference {expansion.max_abs_diff:.3g})")
