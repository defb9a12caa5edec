"""Export: `codegen` (pure: BuildPlan -> standalone Python script, with its
training half in `script_parts`), the verified model-file `exporters` (keras,
savedmodel, tflite, onnx, python) and `project_export` (which model of a
project to export: a run's, the imported weights, or fresh ones; and for the
script, the dataset spec and the data scaling the app uses), shared by
`studio export` and the GUI."""
