"""The environment report of Help > About and `studio --version --verbose`: the training package's
(TensorFlow build, devices, why no GPU, start-time settings) plus where downloads are kept (Hub
modules, Keras Applications weights, KerasHub presets), so a person offline knows where to put a
file downloaded elsewhere."""

from __future__ import annotations

import os


def environment_report() -> dict[str, str]:
    """Item -> value, in the order shown. Imports TensorFlow."""
    from studio.hub.backbones import keras_home
    from studio.hub.resolve import CACHE_ENV, hub_cache_dir
    from studio.training.devices import environment_report as devices_report

    report = devices_report()
    report["Hub module cache"] = f"{hub_cache_dir()} ({CACHE_ENV})"
    report["Keras weights cache"] = f"{keras_home() / 'models'} (KERAS_HOME/models)"
    kaggle = os.environ.get("KAGGLEHUB_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "kagglehub")
    hugging = os.environ.get("HF_HOME") or os.path.join(os.path.expanduser("~"), ".cache", "huggingface")
    report["KerasHub preset caches"] = f"{kaggle} (KAGGLEHUB_CACHE), {hugging} (HF_HOME)"
    return report


def report_text() -> str:
    from studio.training.devices import format_report

    return format_report(environment_report())
