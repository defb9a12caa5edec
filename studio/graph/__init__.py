"""The pure graph core: layer specs, the catalog, the Graph model, rules,
shape inference and undoable edits. Imports neither Qt nor TensorFlow."""

from studio.graph.catalog import Catalog, default_catalog
from studio.graph.inference import Diagnostic, ShapeReport, analyse, format_shape
from studio.graph.model import Edge, Graph, Node
from studio.graph.spec import LayerSpec, ParamSpec, ShapeError

__all__ = [
    "Catalog",
    "Diagnostic",
    "Edge",
    "Graph",
    "LayerSpec",
    "Node",
    "ParamSpec",
    "ShapeError",
    "ShapeReport",
    "analyse",
    "default_catalog",
    "format_shape",
]
