"""Metrics on the test split, shared by `studio evaluate` and the GUI.

`evaluate_model` runs the model once over the test data and returns a
JSON-friendly dict (saved as the run's `evaluation.json`):

    {"task", "samples", "keras": {loss, metrics...},
     classification: "accuracy", "class_names", "confusion" (rows = true, cols = predicted),
                     "per_class": [{"class", "precision", "recall", "f1", "support"}], "macro", "weighted",
     regression:     "mse", "rmse", "mae", "r2", "max_error",
     forecast:       the regression metrics over every value forecast, "mape", "naive" (the same errors
                     of the naive forecast: each target's last input value, repeated for every step
                     ahead), "forecast" ({"targets", "horizon", "stride", "first_row", "steps": errors
                     per step ahead, model and naive}), "y_naive" (per window),
     "y_true", "y_pred" (per sample, for the confusion-cell and predicted-vs-actual views; a
                         forecast's are one list per window: its steps ahead, row after row),
     classification: "top_classes", "top_probs" (per sample, the TOP_K most probable classes and
                     their probabilities, most probable first),
     where the data says where its test samples come from (``samples`` = `PreparedData.test_samples`):
                     "sample_source" ({"kind": "images" | "table" | "text", "path", ...}) and
                     "sample_refs" (per sample: its file, relative to the path, or its data row),
     "worst": the WORST_KEPT worst test samples, worst first: the largest errors of a regression,
              the most confident mistakes of a classification ({"index" in the test split, "true",
              "predicted", "error" or "confidence", and "file" (in the folder) or "row" (the data
              row, from 1 after the header) where the sample's source is known})

Nothing of the samples themselves (pixels, rows, texts) is kept: the Evaluation tab reads the few it
shows from their files.

A forecast only counts if it beats the obvious: the naive "last value" forecast's errors are
reported beside the model's. Where the window's inputs are is told by the data
(``forecast`` = `DatasetInfo.forecast_layout()`, or a ``forecast`` attribute of the task);
without it a series of one input column is taken as its own target.

The metric functions are plain numpy and tested on hand-made arrays.
"""

from __future__ import annotations

from typing import Any, Optional

from studio.core.errors import TrainingError
from studio.training.data_utils import is_dataset
from studio.training.reports import TaskInfo

MAX_SAMPLES_KEPT = 200_000  # y_true / y_pred kept in evaluation.json
TOP_K = 3  # classes kept per sample with their probabilities
WORST_KEPT = 20  # samples in "worst" (what `studio evaluate --json` prints)


def confusion_matrix(y_true: Any, y_pred: Any, num_classes: int) -> Any:
    import numpy as np

    y_true = np.asarray(y_true, dtype=np.int64).ravel()
    y_pred = np.asarray(y_pred, dtype=np.int64).ravel()
    if y_true.size and (y_true.min() < 0 or y_true.max() >= num_classes):
        raise TrainingError(
            f"test labels range from {y_true.min()} to {y_true.max()} but there are {num_classes} classes; "
            "check the label column"
        )
    y_pred = np.clip(y_pred, 0, num_classes - 1)
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (y_true, y_pred), 1)
    return matrix


def per_class_scores(matrix: Any) -> dict[str, Any]:
    """Precision, recall, F1 and support per class, with macro and weighted averages."""
    import numpy as np

    m = np.asarray(matrix, dtype=np.float64)
    tp = np.diag(m)
    predicted = m.sum(axis=0)
    support = m.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(support > 0, tp / support, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    total = support.sum()
    weights = support / total if total > 0 else np.zeros_like(support)
    return {
        "precision": precision.tolist(),
        "recall": recall.tolist(),
        "f1": f1.tolist(),
        "support": support.astype(int).tolist(),
        "accuracy": float(tp.sum() / total) if total > 0 else 0.0,
        "macro": {
            "precision": float(precision.mean()),
            "recall": float(recall.mean()),
            "f1": float(f1.mean()),
        },
        "weighted": {
            "precision": float((precision * weights).sum()),
            "recall": float((recall * weights).sum()),
            "f1": float((f1 * weights).sum()),
        },
    }


def regression_metrics(y_true: Any, y_pred: Any) -> dict[str, float]:
    import numpy as np

    t = np.asarray(y_true, dtype=np.float64).ravel()
    p = np.asarray(y_pred, dtype=np.float64).ravel()
    if t.size != p.size:
        raise TrainingError(
            f"the model predicts {p.size} values for {t.size} targets; check the output units"
        )
    if t.size == 0:
        return {
            "mse": float("nan"),
            "rmse": float("nan"),
            "mae": float("nan"),
            "r2": float("nan"),
            "max_error": float("nan"),
        }
    err = p - t
    mse = float(np.mean(err**2))
    ss_tot = float(np.sum((t - t.mean()) ** 2))
    return {
        "mse": mse,
        "rmse": mse**0.5,
        "mae": float(np.mean(np.abs(err))),
        "r2": 1.0 - float(np.sum(err**2)) / ss_tot if ss_tot > 0 else float("nan"),
        "max_error": float(np.max(np.abs(err))),
    }


def forecast_errors(y_true: Any, y_pred: Any) -> dict[str, Any]:
    """MAE, RMSE and MAPE (in %, over the actual values that are not 0) of a forecast."""
    import numpy as np

    t = np.asarray(y_true, dtype=np.float64).ravel()
    p = np.asarray(y_pred, dtype=np.float64).ravel()
    if t.size == 0:
        return {"mae": float("nan"), "rmse": float("nan"), "mape": float("nan"), "mape_values": 0}
    err = p - t
    nonzero = np.abs(t) > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        mape = float(np.mean(np.abs(err[nonzero] / t[nonzero])) * 100) if nonzero.any() else float("nan")
    return {
        "mae": float(np.mean(np.abs(err))),
        "rmse": float(np.mean(err**2) ** 0.5),
        "mape": mape,
        "mape_values": int(nonzero.sum()),  # the values MAPE is over (an actual 0 has no percentage)
    }


def _layout(forecast: Optional[dict], inputs_width: Optional[int], width: int) -> dict[str, Any]:
    """The forecast's layout: given, or guessed for a series of one column (its own target)."""
    layout = dict(forecast or {})
    if not layout.get("targets"):
        if inputs_width == 1:
            layout.update(targets=["value"], inputs=[0], horizon=width)
        else:  # which input is which target is unknown: each value its own target, no naive forecast
            layout.update(targets=[f"output {i + 1}" for i in range(width)], inputs=[None] * width, horizon=1,
                          unknown=True)
    targets = list(layout["targets"])
    horizon = int(layout.get("horizon") or 1)
    if horizon * len(targets) != width:
        raise TrainingError(
            f"the model forecasts {width} values per window but the data has {horizon} steps of "
            f"{len(targets)} target(s); check the output units"
        )
    inputs = list(layout.get("inputs") or [None] * len(targets))
    return {"targets": targets, "horizon": horizon, "inputs": inputs, "stride": int(layout.get("stride") or 1),
            "first_row": layout.get("first_row"), "unknown": bool(layout.get("unknown"))}


def forecast_metrics(y_true: Any, y_pred: Any, last_inputs: Any = None,
                     forecast: Optional[dict] = None) -> dict[str, Any]:
    """A forecast's errors against the naive "last value" forecast, overall and per step ahead.

    `y_true`/`y_pred`: (windows, horizon * targets), the steps row after row; `last_inputs`:
    (windows, input columns), each window's last input row (None: no naive forecast).
    """
    import numpy as np

    t = np.asarray(y_true, dtype=np.float64)
    t = t.reshape(len(t), -1)
    p = np.asarray(y_pred, dtype=np.float64).reshape(len(t), -1)
    if p.shape != t.shape:
        raise TrainingError(f"the model predicts {p.shape[1]} values for {t.shape[1]} targets; check the output units")
    last = None if last_inputs is None else np.asarray(last_inputs, dtype=np.float64).reshape(len(t), -1)
    layout = _layout(forecast, None if last is None else last.shape[1], t.shape[1])
    horizon, k = layout["horizon"], len(layout["targets"])
    naive = None
    note = ""
    if last is None:
        note = "the inputs of the test windows are not known"
    elif layout["unknown"]:
        note = "the data did not say which input column holds each target"
    elif any(i is None or not 0 <= int(i) < last.shape[1] for i in layout["inputs"]):
        note = "a target is not among the inputs, so its last value is not known"
    else:
        naive_last = last[:, [int(i) for i in layout["inputs"]]]  # (windows, targets)
        naive = np.tile(naive_last, (1, horizon))  # the same value for every step ahead
    steps = []
    t3, p3 = t.reshape(len(t), horizon, k), p.reshape(len(t), horizon, k)
    n3 = None if naive is None else naive.reshape(len(t), horizon, k)
    for s in range(horizon):
        row: dict[str, Any] = {"step": s + 1, **forecast_errors(t3[:, s], p3[:, s])}
        if n3 is not None:
            nv = forecast_errors(t3[:, s], n3[:, s])
            row.update(naive_mae=nv["mae"], naive_rmse=nv["rmse"], naive_mape=nv["mape"])
        steps.append(row)
    out: dict[str, Any] = {
        "targets": layout["targets"],
        "horizon": horizon,
        "stride": layout["stride"],
        "first_row": layout["first_row"],
        "model": forecast_errors(t, p),
        "naive": forecast_errors(t, naive) if naive is not None else None,
        "steps": steps,
    }
    if note:
        out["naive_note"] = note
    if naive is not None:
        out["naive_values"] = naive_last
    return out


def predicted_classes(pred: Any) -> Any:
    """Class indices from model outputs: argmax, or > 0.5 for one sigmoid unit."""
    import numpy as np

    p = np.asarray(pred)
    if p.ndim >= 2 and p.shape[-1] > 1:
        return p.argmax(axis=-1).ravel()
    return (p.ravel() > 0.5).astype(np.int64)


def class_probabilities(pred: Any) -> Any:
    """(samples, classes) probabilities from model outputs: softmax outputs as they are, logits
    through a softmax; one unit is P(class 1) (a sigmoid's output, or a logit through one)."""
    import numpy as np

    p = np.asarray(pred, dtype=np.float64)
    if p.ndim >= 2 and p.shape[-1] > 1:
        p = p.reshape(len(p), -1)
        if p.size and (p.min() < 0 or p.max() > 1 or not np.allclose(p.sum(axis=1), 1.0, atol=1e-3)):
            e = np.exp(p - p.max(axis=1, keepdims=True))
            p = e / e.sum(axis=1, keepdims=True)
        return p
    s = p.reshape(len(p), -1)[:, 0] if p.ndim else p.reshape(1)
    if s.size and (s.min() < 0 or s.max() > 1):
        s = 1.0 / (1.0 + np.exp(-s))
    return np.stack([1.0 - s, s], axis=1)


def top_classes(probs: Any, k: int = TOP_K) -> tuple[Any, Any]:
    """(classes, probabilities), each (samples, k), the most probable class first."""
    import numpy as np

    k = min(k, probs.shape[1])
    order = np.argsort(-probs, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(probs, order, axis=1)


def _refs(samples: Optional[dict], n: int) -> Optional[list]:
    """The per-sample references of `samples` if there is one per test sample, else None
    (a sample dropped while reading, say: the list would point at the wrong files)."""
    refs = (samples or {}).get("refs")
    return list(refs) if refs is not None and len(refs) == n else None


def where(ref: Any) -> dict[str, Any]:
    """A sample's place in its data for people: {"file": path in the folder} or {"row": the data
    row, counted from 1 after the header}."""
    return {"file": ref} if isinstance(ref, str) else {"row": int(ref) + 1}


def worst_regression(t: Any, p: Any, refs: Optional[list], k: int = WORST_KEPT) -> list[dict[str, Any]]:
    """The `k` samples with the largest absolute error (of the first target), worst first."""
    import numpy as np

    err = p[:, 0] - t[:, 0]
    order = np.argsort(-np.abs(err), kind="stable")[:k]
    return [{"index": int(i), "true": float(t[i, 0]), "predicted": float(p[i, 0]), "error": float(err[i]),
             **(where(refs[i]) if refs else {})} for i in order]


def worst_classification(truth: Any, guess: Any, confidence: Any, names: list[str], refs: Optional[list],
                         k: int = WORST_KEPT) -> list[dict[str, Any]]:
    """The `k` most confident mistakes, most confident first."""
    import numpy as np

    wrong = np.flatnonzero(truth != guess)
    order = wrong[np.argsort(-confidence[wrong], kind="stable")][:k]
    return [{"index": int(i), "true": names[int(truth[i])], "predicted": names[int(guess[i])],
             "confidence": round(float(confidence[i]), 4), **(where(refs[i]) if refs else {})}
            for i in order]


def true_classes(y: Any, label_encoding: str) -> Any:
    import numpy as np

    y = np.asarray(y)
    if label_encoding == "onehot" or (y.ndim >= 2 and y.shape[-1] > 1):
        return y.argmax(axis=-1).ravel()
    return np.rint(y.ravel()).astype(np.int64)


def _last_step(x: Any) -> Any:
    """Each window's last input row: (windows, columns) of a (windows, steps, columns) input."""
    import numpy as np

    if isinstance(x, (dict, list, tuple)):
        return None
    x = np.asarray(x)
    return x[:, -1, :] if x.ndim == 3 else None


def _predict_all(model: Any, data: Any, batch_size: int, last_step: bool = False) -> tuple[Any, Any, Any]:
    """(y_true, predictions, the windows' last input rows or None) in one pass over the test data."""
    import numpy as np

    if is_dataset(data):
        ys, preds, lasts = [], [], []
        for batch in data:
            if not isinstance(batch, (tuple, list)) or len(batch) < 2:
                raise TrainingError("the test dataset has no targets; evaluation needs (inputs, targets)")
            x_b, y_b = batch[0], batch[1]
            out = model.predict_on_batch(x_b)
            preds.append(np.asarray(out[0] if isinstance(out, (list, tuple)) else out))
            ys.append(np.asarray(y_b))
            if last_step:
                lasts.append(_last_step(x_b))
        if not preds:
            raise TrainingError("the test split is empty; nothing to evaluate")
        last = np.concatenate(lasts) if lasts and all(v is not None for v in lasts) else None
        return np.concatenate(ys), np.concatenate(preds), last
    x, y = data[0], data[1]
    out = model.predict(x, batch_size=batch_size, verbose=0)
    last = _last_step(x) if last_step else None
    return np.asarray(y), np.asarray(out[0] if isinstance(out, (list, tuple)) else out), last


def _keras_metrics(model: Any, data: Any, batch_size: int) -> dict[str, float]:
    if is_dataset(data):
        logs = model.evaluate(data, verbose=0, return_dict=True)
    else:
        logs = model.evaluate(data[0], data[1], batch_size=batch_size, verbose=0, return_dict=True)
    return {k: float(v) for k, v in logs.items() if isinstance(v, (int, float)) or hasattr(v, "__float__")}


def evaluate_outputs(model: Any, data: Any, task: TaskInfo, batch_size: int = 32,
                     samples: Optional[dict] = None) -> dict[str, Any]:
    """Evaluate a model with several outputs, each on its own targets (`task.outputs`).

    The result is the first output's evaluation (what the Evaluation tab shows), with Keras'
    metrics of the whole model ("kind_accuracy", "amount_mae"...) under "keras", and every
    output's own evaluation under "outputs" ({Keras output name: evaluation}, in output order)."""
    import keras

    samples = samples if samples is not None else getattr(task, "samples", None)
    outputs = list(task.outputs or [])
    if len(model.outputs) != len(outputs):
        raise TrainingError(f"the model has {len(model.outputs)} outputs but the data gives {len(outputs)} targets; "
                            "bind a target to each output")
    per_output: dict[str, Any] = {}
    for i, out in enumerate(outputs):
        single = keras.Model(model.inputs, model.outputs[i], name=f"output_{i}")
        if is_dataset(data):
            part = data.map(lambda x, y, i=i: (x, y[i]))
        else:
            part = (data[0], data[1][i])
        sub = TaskInfo(task=str(out.get("task") or "regression"), num_classes=out.get("num_classes"),
                       label_encoding=str(out.get("label_encoding") or "index"),
                       class_names=out.get("class_names"), samples=samples)
        evaluation = evaluate_model(single, part, sub, batch_size, samples=samples)
        evaluation["node"] = out.get("node")
        per_output[str(out.get("name") or f"output_{i}")] = evaluation
    first = next(iter(per_output))
    result = dict(per_output[first])
    result["output"] = first
    if getattr(model, "compiled", False):
        result["keras"] = _keras_metrics(model, data, batch_size)
    result["outputs"] = per_output
    return result


def evaluate_model(
    model: Any, data: Any, task: Optional[TaskInfo] = None, batch_size: int = 32,
    forecast: Optional[dict] = None, samples: Optional[dict] = None,
) -> dict[str, Any]:
    """Evaluate `model` on test `data` ((x, y) arrays or a batched tf.data.Dataset).

    `forecast`: a time series' layout (`DatasetInfo.forecast_layout()`; default: the task's
    ``forecast`` attribute, if it has one). `samples`: where the test samples come from
    (`PreparedData.test_samples`; default: the task's ``samples``)."""
    import numpy as np

    task = task or TaskInfo()
    if data is None:
        raise TrainingError(
            "there is no test split to evaluate on; set a test fraction in the dataset settings"
        )
    if task.outputs and len(task.outputs) > 1:
        return evaluate_outputs(model, data, task, batch_size, samples)
    result: dict[str, Any] = {"task": task.task}
    if getattr(model, "compiled", False):
        result["keras"] = _keras_metrics(model, data, batch_size)
    is_forecast = task.task == "forecast"
    y_true, pred, last = _predict_all(model, data, batch_size, last_step=is_forecast)
    result["samples"] = int(len(y_true))
    keep = slice(0, MAX_SAMPLES_KEPT)
    samples = samples if samples is not None else getattr(task, "samples", None)
    refs = _refs(samples, len(y_true)) if task.task in ("classification", "regression") else None
    if refs is not None:
        result["sample_source"] = {k: v for k, v in samples.items() if k != "refs"}
        result["sample_refs"] = refs[keep]
    if task.task == "classification" and task.label_encoding != "multilabel":
        truth = true_classes(y_true, task.label_encoding)
        guess = predicted_classes(pred)
        n = task.num_classes or int(
            max(pred.shape[-1] if pred.ndim >= 2 and pred.shape[-1] > 1 else 2, truth.max(initial=0) + 1)
        )
        matrix = confusion_matrix(truth, guess, n)
        probs = class_probabilities(pred)
        top, top_p = top_classes(probs)
        confidence = probs[np.arange(len(guess)), np.clip(guess, 0, probs.shape[1] - 1)]
        scores = per_class_scores(matrix)
        names = (
            task.class_names
            if task.class_names and len(task.class_names) == n
            else [str(i) for i in range(n)]
        )
        result.update(
            accuracy=scores["accuracy"],
            class_names=names,
            confusion=matrix.tolist(),
            per_class=[
                {
                    "class": names[i],
                    "precision": scores["precision"][i],
                    "recall": scores["recall"][i],
                    "f1": scores["f1"][i],
                    "support": scores["support"][i],
                }
                for i in range(n)
            ],
            macro=scores["macro"],
            weighted=scores["weighted"],
            y_true=truth[keep].tolist(),
            y_pred=guess[keep].tolist(),
            top_classes=top[keep].tolist(),
            top_probs=np.round(top_p[keep], 4).tolist(),
            worst=worst_classification(truth, guess, confidence, names, refs),
        )
    elif task.task == "regression":
        t = np.asarray(y_true, dtype=np.float64).reshape(len(y_true), -1)
        p = np.asarray(pred, dtype=np.float64).reshape(len(pred), -1)
        result.update(regression_metrics(t, p))
        result.update(y_true=t[keep, 0].tolist(), y_pred=p[keep, 0].tolist(), worst=worst_regression(t, p, refs))
    elif is_forecast:
        t = np.asarray(y_true, dtype=np.float64).reshape(len(y_true), -1)
        p = np.asarray(pred, dtype=np.float64).reshape(len(pred), -1)
        result.update(regression_metrics(t, p))
        layout = forecast if forecast is not None else getattr(task, "forecast", None)
        details = forecast_metrics(t, p, last, layout)
        naive_values = details.pop("naive_values", None)
        model_errors, naive = details.pop("model"), details.pop("naive")
        result["mape"] = model_errors["mape"]
        result["naive"] = naive
        result["forecast"] = details
        rows = slice(0, max(1, MAX_SAMPLES_KEPT // max(1, t.shape[1])))
        result.update(y_true=t[rows].tolist(), y_pred=p[rows].tolist())
        if naive_values is not None:
            result["y_naive"] = naive_values[rows].tolist()
    return result
