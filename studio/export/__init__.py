"""Export: `codegen` (pure: BuildPlan -> Python script) and the model-file
exporters (`exporters`: keras, savedmodel, tflite, onnx, python), each
verified by reloading the file in its own runtime."""
