"""The exported script trains a model with several inputs and outputs the app's way: its
`load_data()` (run in a fresh process) yields each Input's columns and each output's target in
the model's order with the app's test split, raw like the app's, it compiles each output with its
own loss, and its `add_preprocessing()` puts each Input's Normalization in front, so its saved model
takes raw inputs like the app's (the export's check compares it with the app's model)."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from studio import data
from studio.compiler.plan import make_plan
from studio.data.codegen import loader_source
from studio.export import script_safety
from studio.export.codegen import ScriptSettings, generate_script
from tests.data.test_codegen import RUNNER as BASE_RUNNER
from tests.data.test_multi_io import bound, two_by_two, write_table

# test_codegen's runner, up to its first batch: each loader's three splits in a fresh process
RUNNER = BASE_RUNNER.split("    x, y = next")[0].replace("load_data(4)", "load_data(1000)") + """
    (xa, xb), (y1, y2) = next(iter(train))
    tests = [[v.tolist() for _, ys in test for v in ys[k].numpy()] for k in (0, 1)]
    out[name] = {"shapes": [list(xa.shape[1:]), list(xb.shape[1:])], "train_mean": float(abs(xa.numpy().mean(0)).max()),
                 "train_std": float(xa.numpy().std(0).mean()), "test": tests}
print(json.dumps(out))
"""


def test_the_scripts_loader_yields_each_node_its_data_with_the_apps_split(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", img=rng.normal(3.0, 2.0, size=(50, 4)), side=rng.normal(size=(50, 2)),
             label=np.arange(50) % 3, value=rng.normal(size=50))
    specs = {
        "table": bound(write_table(tmp_path)),
        "arrays": {"kind": "npz", "path": "d.npz",
                   "inputs": [{"node": "in_a", "features": ["img"]}, {"node": "in_b", "features": ["side"]}],
                   "outputs": [{"node": "colour", "targets": ["label"]}, {"node": "size", "targets": ["value"]}]},
    }
    expected = {}
    for name, spec in specs.items():
        prepared = data.prepare(spec, tmp_path, batch_size=4)
        source = loader_source(prepared.spec, tmp_path)
        script_safety.check_script(source)
        (tmp_path / f"loader_{name}.py").write_text(source, encoding="utf-8")
        expected[name] = [[v.tolist() for _, ys in prepared.test for v in ys[k].numpy()] for k in (0, 1)]
    # The spec as written (no statistics fitted): the loader standardises each input itself.
    (tmp_path / "loader_plain.py").write_text(loader_source(specs["arrays"], tmp_path), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-c", RUNNER, str(tmp_path), ",".join([*specs, "plain"])], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300, env=dict(os.environ, PYTHONPATH=""))
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["table"]["shapes"] == [[2], [1]] and got["arrays"]["shapes"] == [[4], [2]]
    for name, (classes, numbers) in expected.items():
        assert got[name]["test"][0] == classes, f"{name}: the script's test classes differ from the app's"
        assert np.allclose(got[name]["test"][1], numbers, atol=1e-4), name
    # each input raw, as in the file (img: mean 3, deviation 2): the model scales it in its first layers
    assert got["arrays"]["train_mean"] > 2.0 and abs(got["arrays"]["train_std"] - 2.0) < 0.5
    assert got["plain"]["train_mean"] < 1e-3 and abs(got["plain"]["train_std"] - 1.0) < 1e-2


def test_the_script_compiles_each_output_with_its_own_loss(tmp_path):
    prepared = data.prepare(bound(write_table(tmp_path), outputs=[
        {"node": "size", "targets": ["size"], "weight": 0.5}, {"node": "colour", "targets": ["colour"]}]),
        tmp_path, batch_size=4)
    graph = two_by_two()
    settings = ScriptSettings(name="two", dataset=prepared.spec, data_base_dir=str(tmp_path),
                              preprocessing={}, training={"epochs": 1})
    script = generate_script(make_plan(graph, "two"), settings)
    # the plan's output order is colour, size: the bindings follow it, whatever their order in the file
    assert 'loss=["sparse_categorical_crossentropy", "mean_squared_error"]' in script
    assert 'metrics=[["accuracy"], ["mae"]]' in script and "loss_weights=[1.0, 0.5]" in script
    assert "OUTPUTS = [['colour'], ['size']]" in script or 'OUTPUTS = [["colour"], ["size"]]' in script
    assert Path(tmp_path / "t.csv").is_file()


def test_the_scripts_saved_model_takes_raw_inputs_like_the_apps(tmp_path):
    """Export a run of the two-heads example trained 1 epoch: the script puts each Input's
    Normalization (the run's own statistics) in front of the network, and the export's check
    finds its model equal to the run's model, which takes raw inputs."""
    from studio.export.project_export import export_project
    from studio.project.io import load_project, save_project
    from studio.training.config import TrainingConfig
    from studio.workflows import train
    from tests.workflows.test_multi_io import EXAMPLE

    path = tmp_path / "two-heads.studio.json"
    save_project(load_project(EXAMPLE), path)
    project = load_project(path)
    config = TrainingConfig.from_dict(dict(project.training, epochs=1))
    assert train.make_session(project, config=config).run().status == "completed"
    run_model = train.find_run(project, None)
    out = tmp_path / "out"
    out.mkdir()
    result = export_project(project, "python", out / "two_heads.py", log=lambda _line: None)
    assert result.max_abs_diff <= result.tolerance
    script = (out / "two_heads.py").read_text(encoding="utf-8")
    assert "model = compile_model(add_preprocessing(model))" in script
    assert "return parts(xs, ys, assignment)  # raw" in script and "standardise(xs" not in script.split(
        "def load_data")[1].split("return parts")[1]
    # The statistics in the script are the run's: those its Normalization layers hold.
    import keras

    model = keras.saving.load_model(run_model.path / "final.keras", safe_mode=True)
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.Normalization)]
    assert len(norms) == 2
    written = [np.asarray(norm.get_config()["mean"], dtype="float64").reshape(-1) for norm in norms]
    start = script.index("NORMALIZE = [") + len("NORMALIZE = ")
    constants = ast.literal_eval(script[start:script.index("\n]\n", start) + 2])
    assert len(constants) == 2
    for (mean, _variance), held in zip(constants, written):
        assert np.allclose(mean, held, atol=1e-6)
