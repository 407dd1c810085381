"""``torch.nn.functional``'s public functions: ``from ... import *`` gives the same names as
PyTorch's, except the ones README's compatibility table lists as missing."""

import types

from tests.oracle import needs_torch

pytestmark = needs_torch

# README: torch.nn.functional's missing functions, and PyTorch's internal helpers that its
# module happens to expose (dispatch plumbing, typing aliases)
MISSING = {"conv_tbc", "fractional_max_pool2d", "fractional_max_pool2d_with_indices",
           "fractional_max_pool3d", "fractional_max_pool3d_with_indices", "grouped_mm",
           "scaled_grouped_mm", "scaled_mm", "linear_cross_entropy", "native_channel_shuffle"}
INTERNAL = {"assert_int_or_pair", "boolean_dispatch", "handle_torch_function",
            "has_torch_function", "has_torch_function_unary", "has_torch_function_variadic"}


def _star(module: str) -> dict:
    ns: dict = {}
    exec(f"from {module} import *", ns)
    return ns


def test_star_import_gives_pytorchs_functions():
    theirs = {n for n, v in _star("torch.nn.functional").items()
              if not n.startswith("_") and n[0].islower() and callable(v)
              and not isinstance(v, (type, types.ModuleType))
              and getattr(v, "__module__", "").startswith("torch")}
    ours = {n for n in _star("ember.nn.functional") if not n.startswith("_")}
    assert theirs - MISSING - INTERNAL <= ours, sorted(theirs - MISSING - INTERNAL - ours)
    assert {"linear", "relu", "conv2d", "cross_entropy", "scaled_dot_product_attention",
            "multi_head_attention_forward"} <= ours
