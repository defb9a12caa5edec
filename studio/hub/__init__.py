"""Pretrained parts: TensorFlow Hub / SavedModel modules and Keras Applications backbones.

* `studio.hub.resolve`: a handle (URL, Kaggle path) or local folder -> a local SavedModel folder,
  through `tensorflow_hub`'s resolver and its cache (`TFHUB_CACHE_DIR`); offline, one clear
  `HubError` naming what to download and where to put it.
* `studio.hub.module_layer`: `HubModule`, our Keras 3 layer around a SavedModel (a `TFSMLayer`
  subclass) that passes `training`, tracks the module's variables and stores only the handle in
  its config; `discover(path)` lists a module's endpoints with their input and output specs.
* `studio.hub.backbones`: the table of supported Keras Applications (pure) and `build_backbone`.

TensorFlow, Keras and tensorflow_hub are imported inside functions only (DESIGN.md section 1):
importing this package is free.
"""
