"""Export: `codegen` (pure: BuildPlan -> standalone Python script), the
verified model-file `exporters` (keras, savedmodel, tflite, onnx, python) and
`project_export` (which model of a project to export: a run's, the imported
weights, or fresh ones), shared by `studio export` and the GUI."""
