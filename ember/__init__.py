"""ember: a deep-learning framework with PyTorch's API on NumPy (CPU) and CuPy (CUDA).

Write ``import ember as torch`` and use it as you would use PyTorch.
"""

from __future__ import annotations

import numpy as _np

# PyTorch never warns on 1/0 or log(0); NumPy would, from inside ember's ops.
_np.seterr(all="ignore")

from . import _malloc

# keep freed activations on the heap instead of page-faulting them in again every step
_malloc.tune()

from . import _backend, _dtype
from ._parallel import (get_num_interop_threads, get_num_threads, set_num_interop_threads,
                        set_num_threads)
from ._backend import Generator, device
from ._dtype import (bfloat16, bool, cdouble, cfloat, complex64, complex128, double, dtype,
                     finfo, float, float16, float32, float64, get_default_dtype, half, iinfo,
                     int, int8, int16, int32, int64, is_complex, is_floating_point, long,
                     promote_types, set_default_dtype, short, uint8)
from ._tensor import Size, Tensor, is_nonzero, is_storage, is_tensor, numel, strided
from ._tensor import (channels_last, channels_last_3d, contiguous_format, memory_format,
                      preserve_format)
from ._tensor_str import set_printoptions
from . import autograd
from .autograd.grad_mode import (enable_grad, inference_mode, is_grad_enabled,
                                 is_inference_mode_enabled, no_grad, set_grad_enabled)
from .autograd.anomaly_mode import (is_anomaly_check_nan_enabled, is_anomaly_enabled,
                                    set_anomaly_enabled)
from . import ops
from .ops._util import can_cast, result_type
from .ops.creation import *
from .ops.creation import get_default_device, set_default_device
from .ops.indexing import *
from .ops.linalg import *
from .ops.pointwise import *
from .ops.random import *
from .ops.reduction import *
from .ops.shape import *
from .ops.distance import cdist, cosine_similarity, pairwise_distance, pdist
from .ops.spatial import channel_shuffle, pixel_shuffle, pixel_unshuffle
from .ops.rnn import gru_cell, lstm_cell, rnn_relu_cell, rnn_tanh_cell
from .ops.activation import (celu, celu_, hardshrink, prelu, rrelu, rrelu_, selu, selu_,
                             threshold, threshold_)

from . import backends, cuda, linalg, multiprocessing
from . import random
from .random import (default_generator, fork_rng, get_rng_state, initial_seed, manual_seed, seed,
                     set_rng_state)

__version__ = "0.1.0"
from . import nn
from . import utils
from . import vision
from . import optim
from . import serialization, storage
from . import distributed
from .serialization import load, save
from .storage import TypedStorage, UntypedStorage
