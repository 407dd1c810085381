"""TensorBoard logging with PyTorch's ``torch.utils.tensorboard`` API (``SummaryWriter``).

Needs the ``tensorboard`` package (``pip install tensorboard`` or ember's ``tensorboard`` extra),
whose event-file writer and protocol buffers do the writing, as in PyTorch."""

try:
    import tensorboard as _tensorboard
    from tensorboard.summary.writer.event_file_writer import EventFileWriter as _EFW  # noqa: F401
except ImportError:
    raise ImportError("TensorBoard logging requires TensorBoard version 1.15 or above, which is "
                      "not installed: pip install tensorboard (or pip install "
                      "\"ember[tensorboard]\")") from None

from tensorboard.summary.writer.record_writer import RecordWriter

from .writer import FileWriter, SummaryWriter

del _tensorboard, _EFW

__all__ = ["FileWriter", "RecordWriter", "SummaryWriter"]
