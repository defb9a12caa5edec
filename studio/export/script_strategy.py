"""Where the exported script trains: its command line and `tf.distribute` (pure).

    python model.py [DATA] [--strategy {default,one,mirrored,multiworker}]
                           [--devices gpu:0,gpu:2] [--cluster HOST:PORT,HOST:PORT --task-index I]

mean what `studio train` means (docs/scaling.md):

* `default`: the project's training device, no strategy (the script as before);
* `one`: `tf.distribute.OneDeviceStrategy` on `--devices` (one device);
* `mirrored`: `tf.distribute.MirroredStrategy` on `--devices` (default: every
  GPU); `cpu:0,cpu:1` splits the CPU into logical devices, to try replicas
  without GPUs;
* `multiworker`: `tf.distribute.MultiWorkerMirroredStrategy`, the same script
  on every worker, each with `--cluster` and its `--task-index` (or
  `TF_CONFIG`); worker 0, the chief, saves the model.

The batch size stays the global batch: `load_data()` batches BATCH_SIZE
samples and the strategy splits each batch across the replicas.

Keras 3's `model.fit` fails under `MultiWorkerMirroredStrategy`
(keras-team/keras#20585: its symbolic build reduces a distributed batch), and
under `MirroredStrategy` when the first batch of a split does not divide
evenly between the replicas (the same reduction adds their unequal shares).
So mirrored and multi-worker runs go through `fit_distributed`: the loop `fit`
runs, written out, each step Keras' own `model.train_step` under
`strategy.run`, with the same callbacks; BatchNormalization layers switched to
synchronised statistics (the whole global batch's); every worker runs the
checkpoint callback (saving may run collectives), the others into a temporary
folder; a worker that stops answering ends the others with one message
(TensorFlow's coordination service notices missing heartbeats: 13 s after a
`kill -9` here).

The text below is fixed: nothing in it comes from the project.
"""

from __future__ import annotations

from textwrap import dedent, indent
from typing import Any

from studio.export.pyformat import INDENT

STRATEGIES = ("default", "one", "mirrored", "multiworker")

_DATA_ARGUMENT = '''\
parser.add_argument(
    "data",
    nargs="?",
    type=Path,
    default=DATA_PATH,
    help=f"the data file or folder ({DATA_NAME}); default: {DATA_PATH}",
)'''

_DATA_CHECKS = '''\
if args.data is None:
    parser.error(f"give the path of the data to train on ({DATA_NAME})")
if not args.data.exists():
    parser.error(f"no data at {args.data}; give the path of {DATA_NAME} as the argument")'''

_OPTIONS = '''\
parser.add_argument(
    "--strategy",
    choices=["default", "one", "mirrored", "multiworker"],
    default="default",
    help="default: the project's device; one: one device (--devices); mirrored: a "
    "model replica on each of --devices (default: every GPU); multiworker: one "
    "process per machine (--cluster and --task-index, or TF_CONFIG)",
)
parser.add_argument(
    "--devices",
    help="for one and mirrored: e.g. gpu:1 or gpu:0,gpu:2; cpu:0,cpu:1 splits the "
    "CPU into two devices (replicas without GPUs)",
)
parser.add_argument(
    "--cluster",
    help="for multiworker: every worker's HOST:PORT, the same list on every worker "
    "(worker 0, the chief, saves the model)",
)
parser.add_argument(
    "--task-index",
    type=int,
    help="for multiworker: this worker's place in --cluster, from 0",
)'''

_OPTION_CHECKS = '''\
names = args.devices.split(",") if args.devices else []
args.devices = []  # TensorFlow's names: "gpu:1" -> "/GPU:1"
for name in names:
    kind, _, index = name.strip().lower().partition(":")
    if kind not in ("cpu", "gpu") or not (index or "0").isdigit():
        parser.error(f"--devices: {name!r} is not cpu:N or gpu:N")
    args.devices.append(f"/{kind.upper()}:{int(index or 0)}")
if args.devices and args.strategy not in ("one", "mirrored"):
    parser.error("--devices goes with --strategy one or mirrored")
if args.strategy == "one" and len(args.devices) > 1:
    parser.error("--strategy one takes one device; use mirrored for several")
if args.strategy != "multiworker" and (args.cluster or args.task_index is not None):
    parser.error("--cluster and --task-index go with --strategy multiworker")
if (
    args.strategy == "multiworker"
    and not args.cluster
    and "TF_CONFIG" not in os.environ
):
    parser.error("multiworker needs --cluster and --task-index, or TF_CONFIG")
if args.cluster:
    workers = args.cluster.split(",")
    if args.task_index is None or not 0 <= args.task_index < len(workers):
        last = len(workers) - 1
        parser.error(f"--task-index: this worker's place in --cluster, 0 to {last}")
return args'''


def arguments_source(data_argument: bool) -> str:
    """`parse_arguments(argv)`: the data's path when the loader reads one (default
    DATA_PATH, checked to exist) and the strategy options, checked."""
    what = "the data to train on and where to train" if data_argument else "where to train"
    lines = [
        "def parse_arguments(argv: list | None = None) -> argparse.Namespace:",
        f'{INDENT}"""The command line: {what} (--strategy)."""',
        f"{INDENT}parser = argparse.ArgumentParser(",
        f'{INDENT * 2}description="Build, train and save the model exported from Network Studio."',
        f"{INDENT})",
    ]
    if data_argument:
        lines.append(indent(_DATA_ARGUMENT, INDENT))
    lines += [indent(_OPTIONS, INDENT), f"{INDENT}args = parser.parse_args(argv)"]
    if data_argument:
        lines.append(indent(_DATA_CHECKS, INDENT))
    lines.append(indent(_OPTION_CHECKS, INDENT))
    return "\n".join(lines)


def _default_device(config: Any) -> str:
    """The device of `--strategy one` without `--devices`: the project's, else the first GPU."""
    if config.device != "auto":
        return "DEVICE"
    return '"/GPU:0" if gpus else "/CPU:0"'


def strategy_source(config: Any) -> str:
    """`make_strategy(args)` and `is_chief(strategy)`; `config` is the TrainingConfig."""
    return dedent(f'''\
        def make_strategy(args: argparse.Namespace) -> tf.distribute.Strategy:
            """The tf.distribute strategy of --strategy ("default": none, the project's device).

            Made first: TensorFlow sets its devices up once, when it first uses them.
            """
            if args.strategy == "default":
                return tf.distribute.get_strategy()
            if args.strategy == "multiworker":
                if args.cluster:  # else TF_CONFIG says where this worker is
                    workers = args.cluster.split(",")
                    task = {{"type": "worker", "index": args.task_index}}
                    os.environ["TF_CONFIG"] = json.dumps(
                        {{"cluster": {{"worker": workers}}, "task": task}}
                    )
                return tf.distribute.MultiWorkerMirroredStrategy()
            cpus = [int(name[5:]) for name in args.devices if name.startswith("/CPU:")]
            if cpus and max(cpus) > 0:  # the CPU split into logical devices, one per replica
                cpu = tf.config.list_physical_devices("CPU")[0]
                split = [tf.config.LogicalDeviceConfiguration()] * (max(cpus) + 1)
                tf.config.set_logical_device_configuration(cpu, split)
            gpus = tf.config.list_physical_devices("GPU")
            chosen = args.devices
            if args.strategy == "one" and not chosen:  # the project's device
                chosen = [{_default_device(config)}]
            for name in chosen:
                if name.startswith("/GPU:") and int(name[5:]) >= len(gpus):
                    raise SystemExit(
                        f"--devices: there is no {{name}}; TensorFlow sees {{len(gpus)}} GPU(s)"
                    )
            if args.strategy == "one":
                return tf.distribute.OneDeviceStrategy(chosen[0])
            return tf.distribute.MirroredStrategy(chosen or None)


        def is_chief(strategy: tf.distribute.Strategy) -> bool:
            """Whether this process saves the model: the only one, or worker 0 of several."""
            if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
                return strategy.cluster_resolver.task_id == 0
            return True''')


_SCRATCH = """
scratch = tempfile.TemporaryDirectory()  # the other workers' checkpoints, deleted
if not is_chief(strategy):  # every worker saves: saving may run collectives
    for callback in callbacks:
        if isinstance(callback, keras.callbacks.ModelCheckpoint):
            callback.filepath = str(Path(scratch.name) / BEST_PATH.name)"""


def distributed_source(callbacks: bool, checkpoint: bool) -> str:
    """`synchronize_batch_norm(model)` and `fit_distributed(model, data, strategy)`: what
    `fit_model` does, as the loop Keras' fit runs (see the module docstring)."""
    made = "make_callbacks(validation is not None)" if callbacks else "[]"
    checkpoints = indent(_SCRATCH, INDENT) if checkpoint else ""
    return dedent(f'''\
        def synchronize_batch_norm(model: keras.Model) -> None:
            """BatchNormalization statistics from the whole global batch, not each replica's
            share (else every worker keeps its own and the chief saves only its own)."""
            for layer in model.layers:
                if isinstance(layer, layers.BatchNormalization):
                    layer.synchronized = True
                elif isinstance(layer, keras.Model):
                    synchronize_batch_norm(layer)


        def fit_distributed(
            model: keras.Model, data: tuple, strategy: tf.distribute.Strategy
        ) -> keras.callbacks.History:
            """fit_model() on several replicas (mirrored, multiworker), as the loop fit runs.

            Keras' fit does not run under MultiWorkerMirroredStrategy yet, nor under
            MirroredStrategy when a split's first batch does not divide evenly between the
            replicas (keras-team/keras#20585). Each replica takes its share of every global
            batch and runs Keras' own train_step on it; all apply the same averaged
            gradients.
            """
            train, validation, test = data
            synchronize_batch_norm(model)
            for x, y in train.take(1):  # Keras makes its metrics' variables, as fit does
                prediction = model(x)
                model.compute_loss(x, y, prediction)
                model.compute_metrics(x, y, prediction)
            model.optimizer.build(model.trainable_variables)
            options = tf.data.Options()
            policy = tf.data.experimental.AutoShardPolicy.DATA  # a share of each batch
            options.experimental_distribute.auto_shard_policy = policy

            def distribute(dataset: tf.data.Dataset) -> tf.distribute.DistributedDataset:
                return strategy.experimental_distribute_dataset(dataset.with_options(options))

            @tf.function
            def train_step(batch: tuple) -> dict:
                logs = strategy.run(model.train_step, args=(batch,))
                return {{name: strategy.reduce("MEAN", v, axis=None) for name, v in logs.items()}}

            @tf.function
            def test_step(batch: tuple) -> dict:
                logs = strategy.run(model.test_step, args=(batch,))
                return {{name: strategy.reduce("MEAN", v, axis=None) for name, v in logs.items()}}

            def evaluate(dataset: tf.data.Dataset) -> dict:
                model.reset_metrics()
                for batch in distribute(dataset):
                    logs = test_step(batch)
                return {{name: float(value) for name, value in logs.items()}}

            callbacks = {made}CHECKPOINTS
            history = keras.callbacks.History()
            callbacks = keras.callbacks.CallbackList(
                [*callbacks, history],
                add_progbar=True,
                model=model,
                verbose=1,
                epochs=EPOCHS,
                steps=None,
            )
            batches = distribute(train)
            try:
                callbacks.on_train_begin()
                for epoch in range(EPOCHS):
                    model.reset_metrics()
                    callbacks.on_epoch_begin(epoch)
                    for step, batch in enumerate(batches):
                        callbacks.on_train_batch_begin(step)
                        logs = train_step(batch)
                        callbacks.on_train_batch_end(step, logs)
                    logs = {{name: float(value) for name, value in logs.items()}}
                    if validation is not None:
                        val = evaluate(validation)
                        logs.update({{f"val_{{name}}": value for name, value in val.items()}})
                    callbacks.on_epoch_end(epoch, logs)
                    if model.stop_training:  # the same logs on every worker: all stop
                        break
                callbacks.on_train_end()
                if test is not None:
                    scores = evaluate(test)
                    print("Test: " + " - ".join(f"{{k}}: {{v:.4f}}" for k, v in scores.items()))
            except (
                tf.errors.UnavailableError,
                tf.errors.DeadlineExceededError,
                tf.errors.CancelledError,
                tf.errors.AbortedError,
                tf.errors.InternalError,
            ) as error:
                raise SystemExit(
                    "multiworker training stopped: another worker stopped answering; every "
                    "worker stops, start them all again to train. TensorFlow said: "
                    + error.message.strip().splitlines()[0].split("}}}} ")[-1][:300]
                ) from None
            return history''').replace("CHECKPOINTS", checkpoints)
