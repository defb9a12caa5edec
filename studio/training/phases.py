"""Two-phase fine-tuning of a pretrained base, in one run (the Keras transfer-learning recipe).

Phase 1 trains the head while every base (a Backbone node's network, a Hub module) is frozen; phase 2
unfreezes the top K layers of each base (0: all of them) and continues at the learning rate times a
factor (0.1 by default). BatchNormalization layers of a base stay frozen in both phases, so they run in
inference mode and keep their moving statistics (in Keras 3 a frozen BatchNormalization runs in
inference mode, as the recipe's `base(x, training=False)` asks); a Backbone node that starts frozen is
also called with `training=False` (studio/hub/backbones.py).

The session (training/session.py) plans the phases before the run, records them in the run's
config.json (`phases`: epochs, learning rate, trainable parameters of each) and logs the epoch's phase
(`phase` column of history.csv), from which plots draw the boundary (`MetricsHistory.phase_boundaries`).

Keras is never imported here: the functions take the model the session built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from studio.hub.backbones import BASE_ATTR

BATCH_NORM = ("BatchNormalization", "SyncBatchNormalization")


@dataclass
class Phase:
    number: int  # 1: head on a frozen base; 2: fine-tuning
    first_epoch: int  # epochs done when it starts (model.fit's initial_epoch)
    end_epoch: int  # model.fit's epochs
    lr_factor: float = 1.0
    unfreeze_top: Optional[int] = None  # phase 2: layers unfrozen at the top of each base (0: all)
    trainable_params: int = 0
    non_trainable_params: int = 0

    def describe(self) -> str:
        epochs = f"epochs {self.first_epoch + 1}-{self.end_epoch}"
        if self.number == 1:
            return f"phase 1 ({epochs}): the head trains, the base is frozen"
        top = "all layers" if not self.unfreeze_top else f"the top {self.unfreeze_top} layers"
        return (f"phase 2 ({epochs}): fine-tuning {top} of the base at {self.lr_factor:g} x the learning rate "
                "(BatchNormalization stays frozen)")

    def record(self, learning_rate: float) -> dict[str, Any]:
        """The phase as config.json records it (epochs counted from 1)."""
        return {
            "phase": self.number,
            "first_epoch": self.first_epoch + 1,
            "last_epoch": self.end_epoch,
            "learning_rate": learning_rate * self.lr_factor,
            "lr_factor": self.lr_factor,
            "base": "frozen" if self.number == 1 else ("all" if not self.unfreeze_top else f"top {self.unfreeze_top}"),
            "trainable_params": self.trainable_params,
            "non_trainable_params": self.non_trainable_params,
        }


def find_bases(model: Any) -> list:
    """The transfer-learning bases in `model` (nested models searched), outermost first."""
    found, stack = [], list(getattr(model, "layers", []) or [])
    while stack:
        layer = stack.pop(0)
        if getattr(layer, BASE_ATTR, False):
            found.append(layer)
        else:
            stack.extend(getattr(layer, "layers", []) or [])
    return found


def plan(fine_tune: Any, initial_epoch: int, final_epoch: int) -> list[Phase]:
    """The phases of a run from `initial_epoch` to `final_epoch` (TrainingConfig.fine_tune)."""
    boundary = min(final_epoch, initial_epoch + fine_tune.head_epochs)
    return [Phase(1, initial_epoch, boundary),
            Phase(2, boundary, final_epoch, fine_tune.lr_factor, fine_tune.unfreeze_top)]


def apply(phase: Phase, bases: list) -> None:
    """Freeze (phase 1) or partly unfreeze (phase 2) every base. Recompile the model afterwards."""
    for base in bases:
        if phase.number == 1:
            _set_all(base, False)
        else:
            unfreeze_top(base, phase.unfreeze_top or 0)


def unfreeze_top(base: Any, count: int) -> int:
    """Unfreeze the last `count` layers (0: all) of the base's network; BatchNormalization stays frozen.

    A Backbone node's base is its preprocessing plus the Keras application: only the application's
    layers count (the fixed preprocessing stays as built). Returns the number of layers unfrozen."""
    base.trainable = True
    network = _network(base)
    network.trainable = True
    for layer in getattr(base, "layers", []) or []:
        if layer is not network:
            _set_all(layer, False)  # preprocessing around the application
    layers = list(leaves(network)) or [network]  # a Hub module is one layer
    cut = len(layers) - count if 0 < count < len(layers) else 0
    unfrozen = 0
    for i, layer in enumerate(layers):
        keep = i >= cut and type(layer).__name__ not in BATCH_NORM
        layer.trainable = keep
        unfrozen += keep
    return unfrozen


def count_params(model: Any) -> tuple[int, int]:
    """(trainable, non-trainable) parameters of `model` as it is frozen now."""
    def total(weights: list) -> int:
        n = 0
        for w in weights:
            size = 1
            for d in w.shape:
                size *= int(d)
            n += size
        return n

    return total(model.trainable_weights), total(model.non_trainable_weights)


def _set_all(layer: Any, value: bool) -> None:
    """`layer.trainable = value` on the layer and every layer inside it, each set explicitly: Keras'
    own propagation skipped the layers of an application that was frozen when it was built."""
    layer.trainable = value
    for inner in getattr(layer, "layers", []) or []:
        _set_all(inner, value)


def _network(base: Any) -> Any:
    """The application inside a Backbone's sub-model (its one nested model), else the base itself."""
    nested = [layer for layer in getattr(base, "layers", []) or [] if getattr(layer, "layers", None)]
    return nested[0] if len(nested) == 1 else base


def leaves(model: Any):
    for layer in getattr(model, "layers", []) or []:
        if getattr(layer, "layers", None):
            yield from leaves(layer)
        else:
            yield layer
