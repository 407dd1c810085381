"""``SummaryWriter`` and ``FileWriter``, following ``torch.utils.tensorboard.writer``: event files
are written by tensorboard's own ``EventFileWriter``, so TensorBoard reads them as it reads
PyTorch's."""

from __future__ import annotations

import io
import math
import os
import socket
import time
from datetime import datetime
from typing import Any

import numpy as np
from tensorboard.compat import tf
from tensorboard.compat.proto import event_pb2
from tensorboard.compat.proto.event_pb2 import Event, SessionLog
from tensorboard.plugins.projector.projector_config_pb2 import EmbeddingInfo, ProjectorConfig
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from . import summary as _summary
from ._convert import figure_to_image, make_grid, make_np

__all__ = ["FileWriter", "SummaryWriter"]


class FileWriter:
    """Writes ``Event`` protos to one event file in ``log_dir`` (asynchronously, flushed every
    ``flush_secs`` or when ``max_queue`` events are pending), as PyTorch's ``FileWriter``."""

    def __init__(self, log_dir, max_queue: int = 10, flush_secs: int = 120,
                 filename_suffix: str = "") -> None:
        self.event_writer = EventFileWriter(str(log_dir), max_queue, flush_secs, filename_suffix)

    def get_logdir(self) -> str:
        return self.event_writer.get_logdir()

    def add_event(self, event, step: int | None = None, walltime: float | None = None) -> None:
        event.wall_time = time.time() if walltime is None else walltime
        if step is not None:
            # a step may be a tensor or NumPy integer; the proto wants an int
            event.step = int(step)
        self.event_writer.add_event(event)

    def add_summary(self, summary, global_step: int | None = None,
                    walltime: float | None = None) -> None:
        self.add_event(event_pb2.Event(summary=summary), global_step, walltime)

    def add_graph(self, graph_profile, walltime: float | None = None) -> None:
        """Write a ``(GraphDef, RunMetadata)`` pair, the second tagged ``step1``."""
        graph_def, stepstats = graph_profile
        self.add_event(event_pb2.Event(graph_def=graph_def.SerializeToString()), None, walltime)
        trm = event_pb2.TaggedRunMetadata(tag="step1",
                                          run_metadata=stepstats.SerializeToString())
        self.add_event(event_pb2.Event(tagged_run_metadata=trm), None, walltime)

    def add_onnx_graph(self, graph, walltime: float | None = None) -> None:
        self.add_event(event_pb2.Event(graph_def=graph.SerializeToString()), None, walltime)

    def flush(self) -> None:
        self.event_writer.flush()

    def close(self) -> None:
        self.event_writer.close()

    def reopen(self) -> None:
        self.event_writer.reopen()


def _default_bins() -> list[float]:
    # TensorFlow's histogram buckets: +-1e-12 growing by 10% up to 1e20, and 0
    v, pos = 1e-12, []
    while v < 1e20:
        pos.append(v)
        v *= 1.1
    return [-b for b in reversed(pos)] + [0] + pos


_DEFAULT_BINS = _default_bins()


def _fs_join(a: str, b: str) -> str:
    # tensorboard's TF stub has no gfile.join (tensorflow/tensorboard#6080); real TF has
    gfile = tf.io.gfile
    if hasattr(gfile, "join"):
        return gfile.join(a, b)
    return gfile.get_filesystem(a).join(a, b)


def _write_file(path: str, data: bytes) -> None:
    with tf.io.gfile.GFile(path, "wb") as f:
        f.write(data)


class SummaryWriter:
    """Logs scalars, histograms, images, text, hparams, PR curves, embeddings and more to event
    files TensorBoard reads, with PyTorch's ``SummaryWriter`` API and file layout.

    ``log_dir`` defaults to ``runs/<Mon>DD_HH-MM-SS_<hostname><comment>``; ``purge_step`` makes
    TensorBoard drop events at or after that step left by a crashed run. Values may be ember
    tensors (any device, requiring grad or not), NumPy arrays or Python numbers."""

    def __init__(self, log_dir: str | os.PathLike | None = None, comment: str = "",
                 purge_step: int | None = None, max_queue: int = 10, flush_secs: int = 120,
                 filename_suffix: str = "") -> None:
        if not log_dir:
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", stamp + "_" + socket.gethostname() + comment)
        self.log_dir = log_dir
        self.purge_step = purge_step
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        self.file_writer = self.all_writers = None
        self._get_file_writer()
        self.default_bins = list(_DEFAULT_BINS)

    def _get_file_writer(self) -> FileWriter:
        """The main writer, reopened after ``close()`` (as PyTorch's writer does)."""
        if self.all_writers is None or self.file_writer is None:
            self.file_writer = FileWriter(self.log_dir, self.max_queue, self.flush_secs,
                                          self.filename_suffix)
            self.all_writers = {self.file_writer.get_logdir(): self.file_writer}
            if self.purge_step is not None:
                self.file_writer.add_event(Event(step=self.purge_step,
                                                 file_version="brain.Event:2"))
                self.file_writer.add_event(Event(step=self.purge_step, session_log=SessionLog(
                    status=SessionLog.START)))
                self.purge_step = None
        return self.file_writer

    def get_logdir(self):
        """The directory the event files go to."""
        return self.log_dir

    def _add(self, summary, global_step=None, walltime=None) -> None:
        self._get_file_writer().add_summary(summary, global_step, walltime)

    # --- scalars -----------------------------------------------------------------------------

    def add_scalar(self, tag: str, scalar_value: Any, global_step: int | None = None,
                   walltime: float | None = None, new_style: bool = False,
                   double_precision: bool = False) -> None:
        """Log one number (a 1-element tensor/array or a Python number)."""
        self._add(_summary.scalar(tag, scalar_value, new_style=new_style,
                                  double_precision=double_precision), global_step, walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict, global_step: int | None = None,
                    walltime: float | None = None) -> None:
        """Log several numbers under ``main_tag``, each to its own run in the subdirectory
        ``<log_dir>/<main_tag with / as _>_<tag>`` (PyTorch's layout)."""
        walltime = time.time() if walltime is None else walltime
        base = self._get_file_writer().get_logdir()
        for tag, value in tag_scalar_dict.items():
            sub_dir = base + "/" + main_tag.replace("/", "_") + "_" + tag
            writer = self.all_writers.get(sub_dir)
            if writer is None:
                writer = FileWriter(sub_dir, self.max_queue, self.flush_secs,
                                    self.filename_suffix)
                self.all_writers[sub_dir] = writer
            writer.add_summary(_summary.scalar(main_tag, value), global_step, walltime)

    def add_tensor(self, tag: str, tensor, global_step: int | None = None,
                   walltime: float | None = None) -> None:
        """Log a whole tensor as a TensorProto (``tensor`` plugin)."""
        self._add(_summary.tensor_proto(tag, tensor), global_step, walltime)

    # --- histograms --------------------------------------------------------------------------

    def add_histogram(self, tag: str, values: Any, global_step: int | None = None,
                      bins: Any = "tensorflow", walltime: float | None = None,
                      max_bins: int | None = None) -> None:
        """Log a histogram of ``values``; ``bins`` is ``"tensorflow"`` (TensorFlow's exponential
        buckets), a NumPy bin rule (``"auto"``, ``"fd"``, ...), a count or the edges."""
        if isinstance(bins, str) and bins == "tensorflow":
            bins = self.default_bins
        self._add(_summary.histogram(tag, values, bins, max_bins=max_bins), global_step,
                  walltime)

    def add_histogram_raw(self, tag: str, min, max, num, sum, sum_squares, bucket_limits,
                          bucket_counts, global_step: int | None = None,
                          walltime: float | None = None) -> None:
        """Log a histogram from precomputed statistics; limits and counts must be as long."""
        if len(bucket_limits) != len(bucket_counts):
            raise ValueError("len(bucket_limits) != len(bucket_counts), see the document.")
        self._add(_summary.histogram_raw(tag, min, max, num, sum, sum_squares, bucket_limits,
                                         bucket_counts), global_step, walltime)

    # --- images, figures, audio ----------------------------------------------------------------

    def add_image(self, tag: str, img_tensor: Any, global_step: int | None = None,
                  walltime: float | None = None, dataformats: str = "CHW") -> None:
        """Log one image: float in [0, 1] or uint8, laid out as ``dataformats`` (CHW, HWC, HW,
        ...; 1 or 3 channels, or 4 for RGBA in HWC/CHW)."""
        self._add(_summary.image(tag, img_tensor, dataformats=dataformats), global_step,
                  walltime)

    def add_images(self, tag: str, img_tensor: Any, global_step: int | None = None,
                   walltime: float | None = None, dataformats: str = "NCHW") -> None:
        """Log a batch of images tiled 8 to a row into one image."""
        self._add(_summary.image(tag, img_tensor, dataformats=dataformats), global_step,
                  walltime)

    def add_image_with_boxes(self, tag: str, img_tensor: Any, box_tensor: Any,
                             global_step: int | None = None, walltime: float | None = None,
                             rescale: float = 1, dataformats: str = "CHW",
                             labels: list[str] | str | None = None) -> None:
        """Log an image with boxes (rows of xmin, ymin, xmax, ymax) drawn in red; labels whose
        count differs from the boxes' are dropped, as in PyTorch."""
        if labels is not None:
            labels = [labels] if isinstance(labels, str) else labels
            if len(labels) != box_tensor.shape[0]:
                labels = None
        self._add(_summary.image_boxes(tag, img_tensor, box_tensor, rescale=rescale,
                                       dataformats=dataformats, labels=labels),
                  global_step, walltime)

    def add_figure(self, tag: str, figure, global_step: int | None = None, close: bool = True,
                   walltime: float | None = None) -> None:
        """Render a matplotlib figure (or a list of them, tiled) and log it as an image."""
        self.add_image(tag, figure_to_image(figure, close), global_step, walltime,
                       dataformats="NCHW" if isinstance(figure, list) else "CHW")

    def add_video(self, tag: str, vid_tensor: Any, global_step: int | None = None,
                  fps: float = 4, walltime: float | None = None) -> None:
        """Log a (B, T, C, H, W) batch of clips (float in [0, 1] or uint8) as one animated GIF
        tiling the clips, as PyTorch does (which needs moviepy; ember encodes with Pillow)."""
        self._add(_summary.video(tag, vid_tensor, fps), global_step, walltime)

    def add_audio(self, tag: str, snd_tensor: Any, global_step: int | None = None,
                  sample_rate: int = 44100, walltime: float | None = None) -> None:
        """Log a mono clip (values in [-1, 1]) as 16-bit WAV."""
        self._add(_summary.audio(tag, snd_tensor, sample_rate=sample_rate), global_step,
                  walltime)

    # --- text, graphs ------------------------------------------------------------------------

    def add_text(self, tag: str, text_string: str, global_step: int | None = None,
                 walltime: float | None = None) -> None:
        """Log a (markdown) string, shown under ``<tag>/text_summary``."""
        self._add(_summary.text(tag, text_string), global_step, walltime)

    def add_onnx_graph(self, prototxt) -> None:
        """Not available: PyTorch parses the file with the ``onnx`` package."""
        raise NotImplementedError("SummaryWriter.add_onnx_graph is not implemented in ember")

    def add_graph(self, model, input_to_model=None, verbose: bool = False,
                  use_strict_trace: bool = True) -> None:
        """Log the graph of one forward pass of ``model`` (see ``_graph.graph``)."""
        from ._graph import graph

        self._get_file_writer().add_graph(graph(model, input_to_model, verbose,
                                                use_strict_trace))

    # --- hparams -----------------------------------------------------------------------------

    def add_hparams(self, hparam_dict: dict, metric_dict: dict,
                    hparam_domain_discrete: dict | None = None, run_name: str | None = None,
                    global_step: int | None = None) -> None:
        """Log hyperparameters and their metrics to the run ``<log_dir>/<run_name>`` (the
        current time when not given), as PyTorch does."""
        if type(hparam_dict) is not dict or type(metric_dict) is not dict:
            raise TypeError("hparam_dict and metric_dict should be dictionary.")
        exp, ssi, sei = _summary.hparams(hparam_dict, metric_dict, hparam_domain_discrete)
        run_dir = os.path.join(self._get_file_writer().get_logdir(),
                               run_name or str(time.time()))
        with SummaryWriter(log_dir=run_dir) as run:
            for s in (exp, ssi, sei):
                run.file_writer.add_summary(s, global_step)
            for k, v in metric_dict.items():
                run.add_scalar(k, v, global_step)

    # --- embeddings --------------------------------------------------------------------------

    @staticmethod
    def _encode(rawstr: str) -> str:
        # percent-encode what cannot be part of a directory name
        return rawstr.replace("%", "%25").replace("/", "%2f").replace("\\", "%5c")

    def add_embedding(self, mat: Any, metadata: list | None = None, label_img: Any = None,
                      global_step: int | None = None, tag: str = "default",
                      metadata_header: list | None = None) -> None:
        """Write an embedding for the projector: ``<step:05>/<tag>/`` gets ``tensors.tsv``,
        ``metadata.tsv`` and ``sprite.png`` and ``projector_config.pbtxt`` lists every embedding
        logged so far, in PyTorch's layout."""
        from google.protobuf import text_format

        mat = make_np(mat)
        global_step = 0 if global_step is None else global_step
        subdir = f"{str(global_step).zfill(5)}/{self._encode(tag)}"
        logdir = self._get_file_writer().get_logdir()
        save_path = os.path.join(logdir, subdir)
        gfile = tf.io.gfile
        if gfile.exists(save_path):
            if not gfile.isdir(save_path):
                raise NotADirectoryError(f"Path: `{save_path}` exists, but is a file. Cannot "
                                         "proceed.")
            print("warning: Embedding dir exists, did you set global_step for add_embedding()?")
        else:
            gfile.makedirs(save_path)
        if metadata is not None:
            if mat.shape[0] != len(metadata):
                raise AssertionError("#labels should equal with #data points")
            _write_metadata(metadata, save_path, metadata_header)
        if label_img is not None:
            if mat.shape[0] != label_img.shape[0]:
                raise AssertionError("#images should equal with #data points")
            _write_sprite(make_np(label_img), save_path)
        if mat.ndim != 2:
            raise AssertionError("mat should be 2D, where mat.size(0) is the number of data "
                                 "points")
        rows = ("\t".join(map(str, row)) + "\n" for row in mat.tolist())
        _write_file(_fs_join(save_path, "tensors.tsv"), "".join(rows).encode())

        info = EmbeddingInfo(tensor_name=f"{tag}:{str(global_step).zfill(5)}",
                             tensor_path=_fs_join(subdir, "tensors.tsv"))
        if metadata is not None:
            info.metadata_path = _fs_join(subdir, "metadata.tsv")
        if label_img is not None:
            info.sprite.image_path = _fs_join(subdir, "sprite.png")
            info.sprite.single_image_dim.extend([label_img.shape[3], label_img.shape[2]])
        if not hasattr(self, "_projector_config"):
            self._projector_config = ProjectorConfig()
        self._projector_config.embeddings.extend([info])
        _write_file(_fs_join(logdir, "projector_config.pbtxt"),
                    text_format.MessageToString(self._projector_config).encode())

    # --- PR curves, custom scalars, meshes ---------------------------------------------------

    def add_pr_curve(self, tag: str, labels: Any, predictions: Any,
                     global_step: int | None = None, num_thresholds: int = 127, weights=None,
                     walltime: float | None = None) -> None:
        """Log a precision-recall curve of binary ``labels`` and ``predictions`` in [0, 1]."""
        self._add(_summary.pr_curve(tag, make_np(labels), make_np(predictions), num_thresholds,
                                    weights), global_step, walltime)

    def add_pr_curve_raw(self, tag: str, true_positive_counts, false_positive_counts,
                         true_negative_counts, false_negative_counts, precision, recall,
                         global_step: int | None = None, num_thresholds: int = 127,
                         weights=None, walltime: float | None = None) -> None:
        """Log a precision-recall curve from precomputed counts."""
        self._add(_summary.pr_curve_raw(tag, true_positive_counts, false_positive_counts,
                                        true_negative_counts, false_negative_counts, precision,
                                        recall, num_thresholds, weights), global_step, walltime)

    def add_custom_scalars_multilinechart(self, tags: list[str], category: str = "default",
                                          title: str = "untitled") -> None:
        """A custom-scalars layout with one multiline chart of ``tags``."""
        self._add(_summary.custom_scalars({category: {title: ["Multiline", tags]}}))

    def add_custom_scalars_marginchart(self, tags: list[str], category: str = "default",
                                       title: str = "untitled") -> None:
        """A custom-scalars layout with one margin chart of (value, lower, upper) tags."""
        if len(tags) != 3:
            raise AssertionError(f"Expected 3 tags, got {len(tags)}.")
        self._add(_summary.custom_scalars({category: {title: ["Margin", tags]}}))

    def add_custom_scalars(self, layout: dict) -> None:
        """Log a custom-scalars layout ``{category: {title: [kind, tags]}}``."""
        self._add(_summary.custom_scalars(layout))

    def add_mesh(self, tag: str, vertices, colors=None, faces=None, config_dict=None,
                 global_step: int | None = None, walltime: float | None = None) -> None:
        """Log a mesh or point cloud (``[B, N, 3]`` vertices, optional colors and faces)."""
        self._add(_summary.mesh(tag, vertices, colors, faces, config_dict), global_step,
                  walltime)

    # --- lifetime ----------------------------------------------------------------------------

    def flush(self) -> None:
        """Write every pending event of every run to disk."""
        if self.all_writers is None:
            return
        for writer in self.all_writers.values():
            writer.flush()

    def close(self) -> None:
        """Flush and close every event file; a later call reopens new ones. Closing twice is
        harmless."""
        if self.all_writers is None:
            return
        for writer in self.all_writers.values():
            writer.flush()
            writer.close()
        self.file_writer = self.all_writers = None

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, exc_type, exc_val, exc_tb) -> None:
        self.close()


def _write_metadata(metadata: list, save_path: str, header: list | None) -> None:
    if not header:
        lines = [str(x) for x in metadata]
    else:
        if len(header) != len(metadata[0]):
            raise AssertionError("len of header must be equal to the number of columns in "
                                 "metadata")
        lines = ["\t".join(str(e) for e in row) for row in [header] + list(metadata)]
    _write_file(_fs_join(save_path, "metadata.tsv"), ("\n".join(lines) + "\n").encode())


def _write_sprite(label_img: np.ndarray, save_path: str) -> None:
    """Tile the NCHW label images into a square sprite sheet (PNG), as the projector needs."""
    from PIL import Image

    side = math.ceil(label_img.shape[0] ** 0.5)
    grid = make_grid(label_img, ncols=side).transpose(1, 2, 0)
    # the sheet is square with the grid's width; rows the grid does not fill stay black
    square = np.zeros((grid.shape[1], grid.shape[1], 3))
    square[:grid.shape[0]] = grid
    buf = io.BytesIO()
    Image.fromarray(np.uint8((square * 255).clip(0, 255))).save(buf, format="PNG")
    _write_file(_fs_join(save_path, "sprite.png"), buf.getvalue())
