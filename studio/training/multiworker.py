"""Training on several machines: `MultiWorkerMirroredStrategy` and its training loop.

    studio train PROJECT --strategy multiworker --cluster HOST:PORT,HOST:PORT --task-index I

runs the same program on every worker (or each worker's `TF_CONFIG` says where
it is). Worker 0 is the chief: it writes the run folder; the other workers
train the same replica of the model and write nothing.

Keras 3's `model.fit` fails under `MultiWorkerMirroredStrategy` (keras#20585,
DESIGN.md section 7), so this module is the second driver of the one engine,
`TrainingSession`: `fit()` below is called where the session would call
`model.fit` and drives the session's own Keras callbacks (reports, history,
learning-rate schedule, early stopping, best checkpoint, TensorBoard) the way
`fit` does, with the loss and the compiled metrics (`accuracy`, `val_accuracy`...)
in every batch's and epoch's logs. Each step is a `tf.function` run with `strategy.run`: the loss is
`tf.nn.compute_average_loss` over the *global* batch (the batch size the user
set, split across the workers by `experimental_distribute_dataset` with
auto-shard policy DATA), so every worker applies the same averaged gradients.

Every worker computes the validation loss on the whole validation split with
the same weights, so early stopping and learning-rate decisions agree without
a collective. A stop requested on any worker (Ctrl-C on the chief) reaches all
of them through the step's all-reduce. A worker that dies makes TensorFlow's
peer health check abort the collectives on the others within
`HEALTH_BOUND_S` seconds; the run fails there with one line naming the worker.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any, Optional

from studio.core.errors import TrainingError

#: Seconds between two health checks of every peer, each check's timeout, and tries.
HEALTH_INTERVAL_S = 3
HEALTH_TIMEOUT_S = 4
HEALTH_RETRIES = 2
#: The longest a dead worker goes unnoticed by the others (a bound, not a typical time).
HEALTH_BOUND_S = HEALTH_INTERVAL_S + HEALTH_RETRIES * HEALTH_TIMEOUT_S
#: How long one collective (a step's all-reduce) may wait for the other workers.
COLLECTIVE_TIMEOUT_S = 300
#: How long the workers wait for each other at the start.
JOIN_TIMEOUT_S = int(os.environ.get("STUDIO_JOIN_TIMEOUT", "600"))


@dataclass(frozen=True)
class Cluster:
    """Where this worker is: every worker's HOST:PORT and this one's index."""

    workers: tuple[str, ...]
    index: int

    @property
    def is_chief(self) -> bool:
        return self.index == 0

    def tf_config(self) -> dict[str, Any]:
        return {"cluster": {"worker": list(self.workers)}, "task": {"type": "worker", "index": self.index}}

    def describe(self) -> str:
        role = " (chief: writes the run)" if self.is_chief else ""
        return f"worker {self.index} of {len(self.workers)}{role}"


def parse_cluster(cluster: Optional[str], task_index: Optional[int]) -> Cluster:
    """The cluster from `--cluster HOST:PORT,...` and `--task-index I`, else from `TF_CONFIG`.

    Raises TrainingError naming the option to fix."""
    if cluster:
        workers = tuple(w.strip() for w in cluster.split(",") if w.strip())
        for worker in workers:
            host, _, port = worker.rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise TrainingError(f"--cluster: {worker!r} is not HOST:PORT (e.g. 10.0.0.5:12345)")
        if len(set(workers)) != len(workers):
            raise TrainingError("--cluster names a worker twice; give each worker its own HOST:PORT")
        if task_index is None:
            raise TrainingError("--cluster needs --task-index: this worker's place in the list, from 0 (the chief)")
        if not 0 <= task_index < len(workers):
            raise TrainingError(
                f"--task-index {task_index}: the cluster has {len(workers)} worker(s); use 0 to {len(workers) - 1}"
            )
        return Cluster(workers, task_index)
    text = os.environ.get("TF_CONFIG", "").strip()
    if not text:
        raise TrainingError(
            "--strategy multiworker needs the cluster: --cluster HOST:PORT,HOST:PORT --task-index I "
            "(the same list on every worker), or TF_CONFIG"
        )
    try:
        config = json.loads(text)
        workers = tuple(config["cluster"]["worker"])
        kind, index = config["task"]["type"], int(config["task"]["index"])
    except (ValueError, KeyError, TypeError) as exc:
        raise TrainingError(
            f'TF_CONFIG is not {{"cluster": {{"worker": [HOST:PORT, ...]}}, "task": {{"type": "worker", "index": I}}}} '
            f"({type(exc).__name__}: {exc})"
        ) from None
    if kind != "worker" or "chief" in config["cluster"]:
        raise TrainingError('TF_CONFIG: use only "worker" tasks; worker 0 is the chief')
    if task_index is not None and task_index != index:
        raise TrainingError(f"--task-index {task_index} differs from TF_CONFIG's task index {index}; give one")
    if not 0 <= index < len(workers):
        raise TrainingError(f"TF_CONFIG: task index {index} is not one of its {len(workers)} worker(s)")
    return Cluster(workers, index)


_CLUSTER: Optional[Cluster] = None


def configure(cluster: Cluster) -> None:
    """Set TF_CONFIG for this process's strategy (call before `devices.place`)."""
    global _CLUSTER
    _CLUSTER = cluster
    os.environ["TF_CONFIG"] = json.dumps(cluster.tf_config())


def current_cluster() -> Cluster:
    return _CLUSTER if _CLUSTER is not None else parse_cluster(None, None)


def placement(notes: list[str]) -> Any:
    """The `devices.Placement` of a `MultiWorkerMirroredStrategy`, with a bounded failure time."""
    import tensorflow as tf
    from tensorflow.python.distribute import collective_all_reduce_strategy as cars

    from studio.training.devices import Placement

    cluster = current_cluster()
    # TensorFlow's peer health check: every HEALTH_INTERVAL_S, a peer that does not answer
    # HEALTH_RETRIES times aborts the collectives on this worker (defaults: 30 s, 3 x 10 s).
    extended = cars.CollectiveAllReduceExtended
    extended._check_health_interval = HEALTH_INTERVAL_S
    extended._check_health_timeout = HEALTH_TIMEOUT_S
    extended._check_health_retry_limit = HEALTH_RETRIES
    extended._check_health_initial_timeout = JOIN_TIMEOUT_S
    options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=COLLECTIVE_TIMEOUT_S)
    try:
        strategy = tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    except RuntimeError as exc:
        if "Timeout waiting for the cluster" in str(exc):
            raise TrainingError(
                f"{cluster.describe()}: the other workers ({', '.join(cluster.workers)}) did not all start "
                f"within {JOIN_TIMEOUT_S} s; start `studio train` on each of them with the same --cluster"
            ) from None
        raise TrainingError(f"multi-worker training cannot start: {exc}") from None
    gpus = tf.config.list_logical_devices("GPU")
    where = f"{len(gpus)} GPU(s)" if gpus else "the CPU"
    return Placement(
        scope=strategy.scope(),
        description=(
            f"MultiWorkerMirroredStrategy, {len(cluster.workers)} workers, {strategy.num_replicas_in_sync} "
            f"replica(s); this is {cluster.describe()} on {where}"
        ),
        is_gpu=bool(gpus),
        warnings=list(notes),
        strategy=strategy,
    )


def is_multiworker(strategy: Any) -> bool:
    return type(strategy).__name__.startswith(("MultiWorkerMirroredStrategy", "CollectiveAllReduceStrategy"))


def synchronize_batch_norm(model: Any) -> list[str]:
    """Make every BatchNormalization layer use the global batch's statistics; returns their names.

    Without it each worker keeps its own moving statistics and the chief saves only its own."""
    import keras

    changed = []
    for layer in _all_layers(model):
        if isinstance(layer, keras.layers.BatchNormalization) and not layer.synchronized:
            layer.synchronized = True
            changed.append(layer.name)
    return changed


def _all_layers(model: Any) -> list[Any]:
    found, todo = [], list(getattr(model, "layers", []))
    while todo:
        layer = todo.pop(0)
        found.append(layer)
        todo.extend(getattr(layer, "layers", []) or [])
    return found


def weights_digest(model: Any) -> str:
    """A short SHA-256 of the model's weights: equal on every worker after a good run."""
    digest = hashlib.sha256()
    for array in model.get_weights():
        digest.update(array.tobytes())
    return digest.hexdigest()[:16]


def _loss_per_sample(model: Any) -> Any:
    """The compiled loss as a per-sample function (one output only)."""
    import keras

    loss = getattr(model, "loss", None)
    if isinstance(loss, (list, tuple)) and len(loss) == 1:
        loss = loss[0]
    if isinstance(loss, dict) or isinstance(loss, (list, tuple)):
        raise TrainingError(
            "multi-worker training supports models with one output for now; train this model with "
            "--strategy mirrored on one machine"
        )
    found = keras.losses.get(loss)
    if isinstance(found, keras.losses.Loss):
        config = found.get_config()
        config["reduction"] = None
        found = type(found).from_config(config)
    return found


def _explain(exc: BaseException, cluster: Cluster) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return (
        f"multi-worker training stopped on {cluster.describe()}: another worker stopped answering "
        f"({type(exc).__name__}: {text[:200]}); every worker stops, start them all again to train"
    )


def fit(session: Any, model: Any, data: Any, callbacks: list[Any], first: int, end: int) -> None:
    """`model.fit(...)` under MultiWorkerMirroredStrategy, driving the same callbacks."""
    import keras
    import tensorflow as tf

    from studio.training.data_utils import is_dataset

    strategy = model.distribute_strategy
    cluster = current_cluster()
    global_batch = int(data.batch_size or 32)
    loss_fn = _loss_per_sample(model)
    optimizer = model.optimizer

    synced = synchronize_batch_norm(model)
    if synced:
        session.reporter.on_message(
            "info",
            f"BatchNormalization synchronised across the workers ({', '.join(synced)}): "
            "the moving statistics come from the whole global batch",
        )
    session.reporter.on_message(
        "info",
        f"{cluster.describe()}: global batch {global_batch} split over {strategy.num_replicas_in_sync} replica(s); "
        "a custom training loop (Keras' fit does not support MultiWorkerMirroredStrategy)",
    )

    if is_dataset(data.x):
        train = data.x
    else:
        train = tf.data.Dataset.from_tensor_slices((data.x, data.y))
        if data.shuffle:
            seed = session.config.seed if session.config.seed is not None else 0
            train = train.shuffle(len(data.y), seed=seed, reshuffle_each_iteration=True)
        train = train.batch(global_batch)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    train = strategy.experimental_distribute_dataset(train.with_options(options))

    def replica_step(x: Any, y: Any, stop: Any) -> Any:
        with tf.GradientTape() as tape:
            prediction = model(x, training=True)
            per_sample = loss_fn(y, prediction)
            loss = tf.nn.compute_average_loss(per_sample, global_batch_size=global_batch)
            if model.losses:
                loss += tf.nn.scale_regularization_loss(tf.add_n(model.losses))
        variables = model.trainable_variables
        gradients = tape.gradient(loss, variables)
        optimizer.apply_gradients(zip(gradients, variables))
        return loss, stop, _compiled_metrics(model, x, y, prediction)

    @tf.function
    def train_step(batch: Any, stop: Any) -> Any:
        x, y = batch[0], batch[1]
        loss, flag, metrics = strategy.run(replica_step, args=(x, y, stop))
        # one all-reduce for both: the global batch's loss and whether any worker asked to stop
        both = strategy.run(lambda a, b: tf.stack([tf.cast(a, tf.float32), b]), args=(loss, flag))
        # the compiled metrics so far this epoch, averaged over the replicas (as fit reports them)
        averaged = {k: strategy.reduce(tf.distribute.ReduceOp.MEAN, v, axis=None) for k, v in metrics.items()}
        return strategy.reduce(tf.distribute.ReduceOp.SUM, both, axis=None), averaged

    @tf.function
    def agree(flag: Any) -> Any:  # the sum of every worker's flag
        return strategy.reduce(tf.distribute.ReduceOp.SUM, strategy.run(tf.identity, args=(flag,)), axis=None)

    def any_worker_stops() -> bool:
        """A decision every worker takes together: a worker leaving alone would hang the others."""
        here = 1.0 if (model.stop_training or session.stop_requested) else 0.0
        return float(agree(tf.constant(here))) > 0

    validation = _validation_batches(data.validation, global_batch)

    def validate() -> dict[str, float]:
        """val_loss and the compiled metrics on the whole validation split (the same on every worker)."""
        total, count, metrics = 0.0, 0, {}
        model.reset_metrics()
        for x, y in validation:
            prediction = model(x, training=False)
            per_sample = loss_fn(y, prediction)
            total += float(tf.reduce_sum(per_sample))
            count += int(per_sample.shape[0])
            metrics = _compiled_metrics(model, x, y, prediction)
        return {"val_loss": total / max(1, count), **{f"val_{k}": float(v) for k, v in metrics.items()}}

    if validation:  # Keras makes its compiled metrics' variables on a first batch (as fit does), not in the step
        with strategy.scope():
            x, y = validation[0]
            _compiled_metrics(model, x, y, model(x, training=False))

    cbs = keras.callbacks.CallbackList(callbacks, add_history=False, add_progbar=False, model=model,
                                       verbose=0, epochs=end, steps=data.steps_per_epoch)
    model.stop_training = False
    try:
        cbs.on_train_begin()
        for epoch in range(first, end):
            if any_worker_stops():
                model.stop_training = True
                break
            cbs.on_epoch_begin(epoch)
            total, steps, stopped, metrics = 0.0, 0, False, {}
            model.reset_metrics()
            for step, batch in enumerate(train):
                cbs.on_train_batch_begin(step)
                stop_here = 1.0 if (model.stop_training or session.stop_requested) else 0.0
                both, averaged = train_step(batch, tf.constant(stop_here))
                loss, stop = both.numpy()
                total += float(loss)
                steps += 1
                metrics = {k: float(v) for k, v in averaged.items()}
                cbs.on_train_batch_end(step, {"loss": total / steps, **metrics})
                if float(stop) > 0:  # every worker sees the same sum: they all leave after this step
                    stopped = model.stop_training = True
                    if not session.stop_requested:
                        session.request_stop("worker")
                    break
            logs = {"loss": total / max(1, steps), **metrics}
            if validation and not stopped:
                cbs.on_test_begin()
                logs.update(validate())
                cbs.on_test_end({"loss": logs["val_loss"]})
            cbs.on_epoch_end(epoch, logs)
        cbs.on_train_end()
    except (tf.errors.UnavailableError, tf.errors.DeadlineExceededError, tf.errors.CancelledError,
            tf.errors.InternalError, tf.errors.AbortedError, tf.errors.FailedPreconditionError) as exc:
        raise TrainingError(_explain(exc, cluster)) from None
    session.reporter.on_message("info", f"{cluster.describe()}: final weights digest {weights_digest(model)} "
                                        "(equal on every worker after a good run)")
    if not cluster.is_chief:
        session.test_data = None  # the chief evaluates and writes the run


def _compiled_metrics(model: Any, x: Any, y: Any, prediction: Any) -> dict[str, Any]:
    """The model's compiled metrics (accuracy...) updated with one batch: their results so far,
    without Keras' own loss tracker (this loop computes the loss itself)."""
    results = model.compute_metrics(x, y, prediction)
    return {k: v for k, v in results.items() if k != "loss"}


def _validation_batches(validation: Any, batch: int) -> list[Any]:
    """The validation split as a list of (x, y) batches, or [] without one."""
    if validation is None:
        return []
    from studio.training.data_utils import is_dataset

    if is_dataset(validation):
        return [(b[0], b[1]) for b in validation]
    x, y = validation[0], validation[1]
    rows = len(y)
    return [(_rows(x, i, i + batch), y[i:i + batch]) for i in range(0, rows, batch)]


def _rows(x: Any, start: int, stop: int) -> Any:
    if isinstance(x, dict):
        return {k: v[start:stop] for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(v[start:stop] for v in x)
    return x[start:stop]
