"""What a run's `fit` really took: peak memory and seconds per epoch, recorded in the run's status.json.

How peak memory is measured:
- on a GPU: TensorFlow's allocator statistics (`tf.config.experimental.get_memory_info(device)["peak"]`
  after `reset_memory_stats` just before fit): the device memory the run's tensors held at most;
- on the CPU: the process's resident memory (RSS, Linux `/proc/self/statm`), sampled every
  `INTERVAL` seconds by a small thread during fit: the peak minus the RSS just before fit. That
  includes what TensorFlow allocates for itself while it traces and runs the train step, which is
  what a user's machine must have free.

`studio.workflows.estimate` shows this record next to the pre-flight estimate.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Optional

INTERVAL = 0.01  # seconds between two RSS samples


def rss_bytes() -> Optional[int]:
    """The process's resident memory now, or None where /proc is missing (not Linux)."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


class Probe:
    """`with Probe(gpu): model.fit(...)`, then `record(epoch_seconds)`."""

    def __init__(self, gpu: bool = False) -> None:
        self.gpu = gpu
        self.before: Optional[int] = None
        self.peak: Optional[int] = None
        self.gpu_peak: Optional[int] = None
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def __enter__(self) -> Probe:
        if self.gpu:
            try:
                import tensorflow as tf

                tf.config.experimental.reset_memory_stats("GPU:0")
            except Exception:  # noqa: BLE001 - a device without statistics: RSS only
                self.gpu = False
        self.before = self.peak = rss_bytes()
        if self.before is not None:
            self._thread = threading.Thread(target=self._sample, name="studio-peak-memory", daemon=True)
            self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(INTERVAL):
            now = rss_bytes()
            if now is not None and (self.peak is None or now > self.peak):
                self.peak = now

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        now = rss_bytes()
        if now is not None and self.peak is not None:
            self.peak = max(self.peak, now)
        if self.gpu:
            try:
                import tensorflow as tf

                self.gpu_peak = int(tf.config.experimental.get_memory_info("GPU:0")["peak"])
            except Exception:  # noqa: BLE001
                self.gpu_peak = None

    def record(self, epoch_seconds: list[float]) -> dict[str, Any]:
        """The `measured` entry of status.json."""
        record: dict[str, Any] = {"epoch_seconds": [round(s, 4) for s in epoch_seconds]}
        if self.gpu_peak is not None:
            record.update(peak_memory_bytes=self.gpu_peak,
                          memory_method="GPU allocator peak (tf.config.experimental.get_memory_info)")
        elif self.before is not None and self.peak is not None:
            record.update(peak_memory_bytes=self.peak - self.before,
                          memory_method="peak RSS during fit minus RSS before fit")
        return record
