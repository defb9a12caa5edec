"""Graph -> Keras: `plan` (pure: graph -> BuildPlan) and `keras_build`
(BuildPlan -> keras.Model, TensorFlow imported inside functions only).

    from studio.compiler import make_plan
    from studio.compiler.keras_build import build_model, compile_model
"""

from studio.compiler.plan import BuildPlan, LayerCall, layer_names, make_plan, plan_to_dict

__all__ = ["BuildPlan", "LayerCall", "layer_names", "make_plan", "plan_to_dict"]
