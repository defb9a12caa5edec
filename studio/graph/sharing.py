"""Shared layers in a graph (pure): nodes that call one layer, and so one set of weights.

A node whose `shares` names another node is another call of that node's layer
(a shared embedding, the two towers of a siamese network). The compiler makes
one Keras layer per owner and calls it at every site; the parameter totals count
its weights once. `check_sharing` is the rule, run by `analyse`: both nodes are
the same layer type with the same parameters and frozen flag, the owner owns its
layer (it shares nobody else's), and each call gives the layer weights of the
same shapes (the same parameter count).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from studio.core.text import shorten

if TYPE_CHECKING:  # pragma: no cover
    from studio.graph.inference import ShapeReport
    from studio.graph.model import Graph


def _plain(params: dict) -> str:
    return json.dumps(params, sort_keys=True, default=str)


def check_sharing(graph: Graph, report: ShapeReport) -> None:
    """Add the sharing diagnostics to `report` and record which nodes share (`report.shared`)."""
    from studio.graph.inference import ERROR, Diagnostic

    nodes = {n.id: n for n in graph.nodes}
    for node in nodes.values():
        if not node.shares:
            continue
        label = shorten(node.title or node.type)
        owner = nodes.get(node.shares)
        fix = "set the same value on both, or choose Stop sharing weights"
        problem = None
        if owner is None:
            problem = (f"'{label}' shares the weights of a node that is no longer in the graph; choose Stop "
                       "sharing weights")
        else:
            other = shorten(owner.title or owner.type)
            spec = graph.catalog.find(node.type)
            if owner.shares:
                problem = (f"'{label}' shares the weights of '{other}', which itself shares those of another "
                           "node; share with that node instead")
            elif owner.type != node.type:
                problem = (f"'{label}' ({shorten(node.type)}) shares the weights of '{other}' "
                           f"({shorten(owner.type)}); only layers of the same type can share; choose Stop "
                           "sharing weights")
            elif spec is not None and (spec.max_inputs == 0 or spec.call_style == "op"):
                problem = f"'{label}' holds no layer to share (an Input or an operation); choose Stop sharing weights"
            elif node.trainable != owner.trainable:
                problem = (f"'{label}' shares the weights of '{other}' but only one of them is frozen; a shared "
                           f"layer is frozen at every call: {fix}")
            else:
                mine = spec.resolve(node.params) if spec is not None else node.params
                theirs = spec.resolve(owner.params) if spec is not None else owner.params
                keys = sorted(k for k in set(mine) | set(theirs) if _plain({k: mine.get(k)}) !=
                              _plain({k: theirs.get(k)}))
                if keys:
                    shown = ", ".join(shorten(k) for k in keys[:3]) + (" ..." if len(keys) > 3 else "")
                    problem = (f"'{label}' shares the weights of '{other}' but its parameters differ ({shown}); "
                               f"one shared layer has one set of parameters: {fix}")
                else:
                    counts, theirs_counts = report.params.get(node.id), report.params.get(owner.id)
                    if counts is not None and theirs_counts is not None and counts != theirs_counts:
                        problem = (f"'{label}' shares the weights of '{other}' but its input gives the layer "
                                   f"{sum(counts):,} parameters instead of {sum(theirs_counts):,}; wire an input "
                                   "of the same shape as the other call's, or choose Stop sharing weights")
        if problem is not None:
            report.diagnostics.append(Diagnostic(node.id, ERROR, problem))
        else:
            report.shared[node.id] = node.shares
