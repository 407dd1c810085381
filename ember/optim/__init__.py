"""``torch.optim``: optimizers with PyTorch's update rules and ``state_dict`` layout, learning
rate schedulers (``ember.optim.lr_scheduler``) and stochastic weight averaging
(``ember.optim.swa_utils``).

Updates run on the parameters' arrays in place (NumPy on CPU, CuPy on CUDA), with PyTorch's
single-tensor (``foreach=False``) arithmetic. ``foreach``/``fused`` are accepted everywhere and
select nothing (there is one implementation); ``capturable=True`` is for CUDA parameters, and
``step()`` raises PyTorch's AssertionError for CPU ones; ``differentiable=True`` raises
NotImplementedError. A tensor ``lr`` is computed with in its own dtype, as PyTorch does.
"""

from . import lr_scheduler, swa_utils
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .adamw import AdamW
from .asgd import ASGD
from .lbfgs import LBFGS
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD
from .sparse_adam import SparseAdam

__all__ = ["Adadelta", "Adagrad", "Adam", "Adamax", "AdamW", "ASGD", "LBFGS", "lr_scheduler",
           "NAdam", "Optimizer", "RAdam", "RMSprop", "Rprop", "SGD", "SparseAdam", "swa_utils"]
