"""The catalog: every `LayerSpec`, looked up by id or legacy alias (STYLE.md 7)."""

from __future__ import annotations

from functools import lru_cache
from typing import Iterable, Iterator

from studio.core.errors import UnknownLayerType
from studio.graph.spec import LayerSpec

# Palette order of categories.
CATEGORIES = (
    "Input",
    "Core",
    "Convolution",
    "Pooling",
    "Recurrent",
    "Attention",
    "Merge",
    "Normalization",
    "Regularization",
    "Reshaping",
    "Activation",
    "Preprocessing",
    "Transfer learning",
    "Operations",
)
# Specs made only by model import (placeholders): never offered in the palette or search.
HIDDEN_CATEGORIES = frozenset({"Imported"})
# Specs that are not layers: never found by `for_class` (a config's "Add" layer is keras.layers.Add).
NOT_LAYERS = frozenset({"Operations", "Imported"})


class Catalog:
    def __init__(self, specs: Iterable[LayerSpec] = ()) -> None:
        self._specs: dict[str, LayerSpec] = {}
        self._aliases: dict[str, str] = {}
        self._by_class: dict[str, str] = {}
        for spec in specs:
            self.register(spec)

    def register(self, spec: LayerSpec) -> None:
        if spec.id in self._specs or spec.id in self._aliases:
            raise ValueError(f"layer id {spec.id!r} registered twice")
        self._specs[spec.id] = spec
        for alias in spec.legacy_ids:
            self._aliases[alias] = spec.id
        if spec.category not in NOT_LAYERS:
            self._by_class.setdefault(spec.class_name, spec.id)

    def get(self, type_id: str) -> LayerSpec:
        """The spec for an id or legacy alias; raises UnknownLayerType."""
        spec = self.find(type_id)
        if spec is None:
            raise UnknownLayerType(f"unknown layer type {type_id!r}")
        return spec

    def find(self, type_id: str) -> LayerSpec | None:
        spec = self._specs.get(type_id)
        if spec is None and type_id in self._aliases:
            spec = self._specs[self._aliases[type_id]]
        return spec

    def canonical_id(self, type_id: str) -> str | None:
        spec = self.find(type_id)
        return spec.id if spec else None

    def for_class(self, class_name: str) -> LayerSpec | None:
        """The spec whose Keras class is `class_name` (used by model import)."""
        spec_id = self._by_class.get(class_name)
        return self._specs[spec_id] if spec_id else None

    def __contains__(self, type_id: object) -> bool:
        return isinstance(type_id, str) and self.find(type_id) is not None

    def __iter__(self) -> Iterator[LayerSpec]:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def ids(self) -> list[str]:
        return list(self._specs)

    def by_category(self) -> dict[str, list[LayerSpec]]:
        groups: dict[str, list[LayerSpec]] = {}
        order = {c: i for i, c in enumerate(CATEGORIES)}
        for spec in sorted(self._specs.values(), key=lambda s: (order.get(s.category, 99), s.id)):
            if spec.category in HIDDEN_CATEGORIES:
                continue
            groups.setdefault(spec.category, []).append(spec)
        return groups

    def search(self, text: str) -> list[LayerSpec]:
        """Specs whose id, class or category contain `text` (case-insensitive)."""
        needle = text.strip().lower()
        offered = [s for s in self if s.category not in HIDDEN_CATEGORIES]
        if not needle:
            return offered
        starts = [s for s in offered if s.id.lower().startswith(needle)]
        rest = [
            s
            for s in offered
            if s not in starts
            and (needle in s.id.lower() or needle in s.category.lower() or needle in s.description.lower())
        ]
        return starts + rest


@lru_cache(maxsize=1)
def default_catalog() -> Catalog:
    """The catalog of every built-in layer (built once)."""
    from studio.graph.layers import all_specs

    return Catalog(all_specs())
