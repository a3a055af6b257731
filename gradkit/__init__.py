"""gradkit: check backpropagation with numerical gradients.

The public surface is small::

    import gradkit as gk
    report = gk.check_gradients(f, params, grads)
    report = gk.check_vjp(forward, backward, inputs)      # a layer's backward pass
    report = gk.check_layer(layer_forward, layer_backward, x, w, b)
    gk.numerical_gradient(f, params)
    gk.relative_error(a, b)

The course modules (``gk.nn``, ``gk.layers``, ``gk.conv``, ``gk.mlp``,
``gk.datasets``, ``gk.optim``, ``gk.bugs``, ``gk.plotting``, ``gk.widgets``,
``gk.grading``) load on first use, so ``import gradkit`` stays light:
matplotlib and ipywidgets are only imported by the modules that draw.
"""

import importlib

from gradkit.check import Finding, GradientReport, check_gradients, tolerance_table
from gradkit.numgrad import directional_derivative, numerical_gradient, relative_error
from gradkit.params import dict_to_vector, vector_to_dict
from gradkit.vjp import check_layer, check_vjp

__version__ = "0.1.0"

__all__ = [
    "Finding",
    "GradientReport",
    "check_gradients",
    "check_layer",
    "check_vjp",
    "dict_to_vector",
    "directional_derivative",
    "numerical_gradient",
    "relative_error",
    "tolerance_table",
    "vector_to_dict",
]

_LAZY_MODULES = {
    "bugs", "check", "cli", "conv", "datasets", "grading", "layers", "mlp", "nn",
    "numgrad", "optim", "params", "plotting", "widgets",
}


def __getattr__(name):
    # PEP 562: `gk.mlp` imports gradkit.mlp on first use.
    if name in _LAZY_MODULES:
        return importlib.import_module(f"gradkit.{name}")
    raise AttributeError(f"module 'gradkit' has no attribute {name!r}")
