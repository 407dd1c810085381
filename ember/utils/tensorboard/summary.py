"""Builders of TensorBoard ``Summary`` protocol buffers, following
``torch.utils.tensorboard.summary``: each function returns the same protos (tags, fields, plugin
metadata) that PyTorch's function of the same name returns, built from tensorboard's compiled
protos."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
from google.protobuf import struct_pb2
from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary, SummaryMetadata
from tensorboard.compat.proto.tensor_pb2 import TensorProto
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.plugins.custom_scalar import layout_pb2
from tensorboard.plugins.pr_curve.plugin_data_pb2 import PrCurvePluginData
from tensorboard.plugins.text.plugin_data_pb2 import TextPluginData

from ... import _dtype
from ..._tensor import Tensor
from ._convert import convert_to_HWC, make_np

__all__ = [
    "hparams", "scalar", "tensor_proto", "histogram_raw", "histogram", "make_histogram", "image",
    "image_boxes", "make_image", "video", "make_video", "audio", "custom_scalars", "text",
    "pr_curve_raw", "pr_curve", "compute_curve", "mesh",
]


def _shape_proto(shape) -> TensorShapeProto:
    return TensorShapeProto(dim=[TensorShapeProto.Dim(size=int(d)) for d in shape])


def _plugin_metadata(name: str, content: bytes = b"") -> SummaryMetadata:
    return SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name=name,
                                                                  content=content))


# --- hparams ---------------------------------------------------------------------------------

def _hparam_value(key: str, value: Any, discrete: list | None, ssi, hparam_info, dtypes):
    """Fill ``ssi.hparams[key]`` and return its HParamInfo; PyTorch tests int/float before
    bool, so a bool is logged as a number."""
    if isinstance(value, (int, float)):
        ssi.hparams[key].number_value = value
        field, dtype = "number_value", "DATA_TYPE_FLOAT64"
    elif isinstance(value, str):
        ssi.hparams[key].string_value = value
        field, dtype = "string_value", "DATA_TYPE_STRING"
    elif isinstance(value, Tensor):
        ssi.hparams[key].number_value = make_np(value).reshape(-1)[0]
        return hparam_info(name=key, type=dtypes.Value("DATA_TYPE_FLOAT64"))
    else:
        raise ValueError("value should be one of int, float, str, bool, or torch.Tensor")
    domain = None
    if discrete is not None:
        domain = struct_pb2.ListValue(values=[struct_pb2.Value(**{field: d}) for d in discrete])
    return hparam_info(name=key, type=dtypes.Value(dtype), domain_discrete=domain)


def hparams(hparam_dict=None, metric_dict=None, hparam_domain_discrete=None):
    """The experiment, session-start and session-end summaries of the hparams plugin."""
    from tensorboard.plugins.hparams import metadata
    from tensorboard.plugins.hparams.api_pb2 import (
        DataType,
        Experiment,
        HParamInfo,
        MetricInfo,
        MetricName,
        Status,
    )
    from tensorboard.plugins.hparams.plugin_data_pb2 import (
        HParamsPluginData,
        SessionEndInfo,
        SessionStartInfo,
    )

    if not isinstance(hparam_dict, dict):
        raise TypeError("parameter: hparam_dict should be a dictionary, nothing logged.")
    if not isinstance(metric_dict, dict):
        raise TypeError("parameter: metric_dict should be a dictionary, nothing logged.")
    hparam_domain_discrete = hparam_domain_discrete or {}
    if not isinstance(hparam_domain_discrete, dict):
        raise TypeError("parameter: hparam_domain_discrete should be a dictionary, nothing "
                        "logged.")
    for k, v in hparam_domain_discrete.items():
        if k not in hparam_dict or not isinstance(v, list) or \
                not all(isinstance(d, type(hparam_dict[k])) for d in v):
            raise TypeError(f"parameter: hparam_domain_discrete[{k}] should be a list of same "
                            f"type as hparam_dict[{k}].")

    ssi = SessionStartInfo()
    infos = [_hparam_value(k, v, hparam_domain_discrete.get(k), ssi, HParamInfo, DataType)
             for k, v in hparam_dict.items() if v is not None]
    experiment = Experiment(hparam_infos=infos,
                            metric_infos=[MetricInfo(name=MetricName(tag=k)) for k in metric_dict])
    sei = SessionEndInfo(status=Status.Value("STATUS_SUCCESS"))

    def wrap(tag: str, **data) -> Summary:
        content = HParamsPluginData(version=metadata.PLUGIN_DATA_VERSION, **data)
        smd = _plugin_metadata(metadata.PLUGIN_NAME, content.SerializeToString())
        return Summary(value=[Summary.Value(tag=tag, metadata=smd)])

    return (wrap(metadata.EXPERIMENT_TAG, experiment=experiment),
            wrap(metadata.SESSION_START_INFO_TAG, session_start_info=ssi),
            wrap(metadata.SESSION_END_INFO_TAG, session_end_info=sei))


# --- scalars and tensors ---------------------------------------------------------------------

def scalar(name: str, tensor: Any, collections=None, new_style: bool = False,
           double_precision: bool = False) -> Summary:
    """A scalar summary: ``simple_value`` by default, a float/double TensorProto with the
    ``scalars`` plugin when ``new_style``; anything but one element raises AssertionError."""
    if type(tensor) in (float, int) or (isinstance(tensor, Tensor) and tensor.numel() == 1):
        # the common cases, without building an array (half of a call's time otherwise)
        value = float(tensor.item() if isinstance(tensor, Tensor) else tensor)
    else:
        arr = make_np(tensor).squeeze()
        if arr.ndim != 0:
            raise AssertionError("Tensor should contain one element (0 dimensions). Was given "
                                 f"size: {arr.size} and {arr.ndim} dimensions.")
        value = float(arr)
    if not new_style:
        return Summary(value=[Summary.Value(tag=name, simple_value=value)])
    proto = (TensorProto(double_val=[value], dtype="DT_DOUBLE") if double_precision
             else TensorProto(float_val=[value], dtype="DT_FLOAT"))
    return Summary(value=[Summary.Value(tag=name, tensor=proto,
                                        metadata=_plugin_metadata("scalars"))])


def _float_bits(a: np.ndarray) -> list[int]:
    # PyTorch stores half/bfloat16 values as the int32 bit pattern of their float32 value
    return a.astype(np.float32).reshape(-1).view(np.int32).tolist()


def _complex_parts(a: np.ndarray) -> list[float]:
    return a.reshape(-1).view(a.real.dtype).tolist()


def _flat(a: np.ndarray) -> list:
    return a.reshape(-1).tolist()


# ember dtype -> (TensorProto dtype, value field, how the values are listed), as PyTorch's map
_TENSOR_TYPES = {
    _dtype.float16: ("DT_HALF", "half_val", _float_bits),
    _dtype.bfloat16: ("DT_BFLOAT16", "half_val", _float_bits),
    _dtype.float32: ("DT_FLOAT", "float_val", _flat),
    _dtype.float64: ("DT_DOUBLE", "double_val", _flat),
    _dtype.int8: ("DT_INT8", "int_val", _flat),
    _dtype.uint8: ("DT_UINT8", "uint32_val", _flat),
    _dtype.int16: ("DT_INT16", "int_val", _flat),
    _dtype.int32: ("DT_INT32", "int_val", _flat),
    _dtype.int64: ("DT_INT64", "int64_val", _flat),
    _dtype.complex64: ("DT_COMPLEX64", "scomplex_val", _complex_parts),
    _dtype.complex128: ("DT_COMPLEX128", "dcomplex_val", _complex_parts),
    _dtype.bool: ("DT_BOOL", "bool_val", _flat),
}


def tensor_proto(tag: str, tensor: Tensor) -> Summary:
    """The whole tensor as a TensorProto under the ``tensor`` plugin (PyTorch's
    ``tensor_proto``); a tensor of 2 GiB or more raises ValueError, as protobuf cannot hold it."""
    if not isinstance(tensor, Tensor):
        raise AttributeError(f"'{type(tensor).__name__}' object has no attribute 'numel'")
    if tensor.numel() * tensor.element_size() >= (1 << 31):
        raise ValueError("tensor is bigger than protocol buffer's hard limit of 2GB in size")
    if tensor.dtype not in _TENSOR_TYPES:
        raise ValueError(f"{tag} has unsupported tensor dtype {tensor.dtype}")
    dtype, field, listing = _TENSOR_TYPES[tensor.dtype]
    t = tensor.detach()
    arr = (t.float() if t.dtype == _dtype.bfloat16 else t).cpu().numpy()
    proto = TensorProto(dtype=dtype, tensor_shape=_shape_proto(tensor.shape),
                        **{field: listing(arr)})
    return Summary(value=[Summary.Value(tag=tag, metadata=_plugin_metadata("tensor"),
                                        tensor=proto)])


# --- histograms ------------------------------------------------------------------------------

def histogram_raw(name, min, max, num, sum, sum_squares, bucket_limits, bucket_counts):
    """A histogram summary from precomputed statistics and buckets."""
    hist = HistogramProto(min=min, max=max, num=num, sum=sum, sum_squares=sum_squares,
                          bucket_limit=bucket_limits, bucket=bucket_counts)
    return Summary(value=[Summary.Value(tag=name, histo=hist)])


def histogram(name: str, values: Any, bins, max_bins: int | None = None) -> Summary:
    """A histogram summary of ``values`` (any shape) binned by ``bins`` (NumPy's ``bins``)."""
    hist = make_histogram(make_np(values).astype(float), bins, max_bins)
    return Summary(value=[Summary.Value(tag=name, histo=hist)])


def make_histogram(values: np.ndarray, bins, max_bins: int | None = None) -> HistogramProto:
    """A HistogramProto as PyTorch builds it: NumPy's counts, merged into at most ``max_bins``
    buckets, trimmed to the non-empty range with one empty bucket kept in front."""
    if values.size == 0:
        raise ValueError("The input has no element.")
    values = values.reshape(-1)
    counts, limits = np.histogram(values, bins=bins)
    if max_bins is not None and len(counts) > max_bins:
        group = len(counts) // max_bins
        counts = np.pad(counts, (0, -len(counts) % group))
        counts = counts.reshape(-1, group).sum(axis=-1)
        limits = np.append(limits[:-1:group], limits[-1])
    nonzero = np.flatnonzero(counts)
    # keep the first through the last non-empty bucket plus the one before; the bounds when all
    # are empty (values outside ``bins``) are where PyTorch's searchsorted puts them
    start = int(nonzero[0]) if nonzero.size else len(counts)
    end = int(nonzero[-1]) + 1 if nonzero.size else 1
    counts = counts[start - 1:end] if start > 0 else np.concatenate([[0], counts[:end]])
    limits = limits[start:end + 1]
    if counts.size == 0 or limits.size == 0:
        raise ValueError("The histogram is empty, please file a bug report.")
    # a pairwise sum of squares rather than PyTorch's BLAS dot: as exact (both round each
    # product; they differ in the last bits of the sum), and it never waits on BLAS threads,
    # which on a busy machine cost more than the whole histogram (benchmarks/tensorboard.py)
    sum_squares = np.square(values).sum()
    return HistogramProto(min=values.min(), max=values.max(), num=len(values), sum=values.sum(),
                          sum_squares=sum_squares, bucket_limit=limits.tolist(),
                          bucket=counts.tolist())


# --- images and audio ------------------------------------------------------------------------

def _to_uint8(hwc: np.ndarray) -> np.ndarray:
    # uint8 images are taken as they are, everything else as [0, 1] floats
    scale = 1 if hwc.dtype == np.uint8 else 255
    return (hwc.astype(np.float32) * scale).clip(0, 255).astype(np.uint8)


def make_image(tensor: np.ndarray, rescale: float = 1, rois=None, labels=None) -> Summary.Image:
    """PNG-encode an HWC uint8 array (Pillow), resized by ``rescale`` with Lanczos and with
    ``rois`` boxes drawn, as an ``Image`` proto."""
    from PIL import Image

    height, width, channel = tensor.shape
    img = Image.fromarray(tensor)
    if rois is not None:
        img = _draw_boxes(img, rois, labels)
    size = (int(width * rescale), int(height * rescale))
    if size != img.size:
        img = img.resize(size, Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return Summary.Image(height=height, width=width, colorspace=channel,
                         encoded_image_string=buf.getvalue())


def image(tag: str, tensor: Any, rescale: float = 1, dataformats: str = "NCHW") -> Summary:
    """An image summary; float images are read as [0, 1], uint8 as [0, 255], batches tiled."""
    hwc = convert_to_HWC(make_np(tensor), dataformats)
    return Summary(value=[Summary.Value(tag=tag, image=make_image(_to_uint8(hwc), rescale))])


def _draw_boxes(img, boxes: np.ndarray, labels=None):
    from PIL import ImageDraw, ImageFont

    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default()
    for i, (left, top, right, bottom) in enumerate(np.asarray(boxes)[:, :4].tolist()):
        draw.line([(left, top), (left, bottom), (right, bottom), (right, top), (left, top)],
                  width=2, fill="Red")
        if labels is None:
            continue
        x0, y0, x1, y1 = font.getbbox(labels[i])
        text_w, text_h = x1 - x0, y1 - y0
        margin = np.ceil(0.05 * text_h)
        draw.rectangle([(left, bottom - text_h - 2 * margin), (left + text_w, bottom)],
                       fill="Red")
        draw.text((left + margin, bottom - text_h - margin), labels[i], fill="black", font=font)
    return img


def image_boxes(tag: str, tensor_image, tensor_boxes, rescale: float = 1,
                dataformats: str = "CHW", labels=None) -> Summary:
    """An image summary with red boxes (``[xmin, ymin, xmax, ymax]`` rows) and labels drawn."""
    hwc = convert_to_HWC(make_np(tensor_image), dataformats)
    img = make_image(_to_uint8(hwc), rescale=rescale, rois=make_np(tensor_boxes), labels=labels)
    return Summary(value=[Summary.Value(tag=tag, image=img)])


def _video_frames(video: np.ndarray) -> np.ndarray:
    """(B, T, C, H, W) -> (T, H', W', C): each frame tiles the batch in a grid of a power of two
    cells (missing clips black), ``2 ** ((B.bit_length() - 1) // 2)`` rows, as PyTorch's
    ``_prepare_video``."""
    b, t, c, h, w = video.shape
    if video.dtype == np.uint8:
        video = np.float32(video) / 255.0
    cells = 1 << (b - 1).bit_length()
    if cells != b:
        video = np.concatenate([video, np.zeros((cells - b, t, c, h, w))], axis=0)
    rows = 2 ** ((b.bit_length() - 1) // 2)
    cols = cells // rows
    grid = video.reshape(rows, cols, t, c, h, w).transpose(2, 0, 4, 1, 5, 3)
    return grid.reshape(t, rows * h, cols * w, c)


def make_video(frames: np.ndarray, fps: float) -> Summary.Image:
    """An animated GIF (looping, ``fps`` frames a second) of (T, H, W, C) uint8 frames.

    PyTorch encodes the GIF with moviepy; here Pillow does (each frame gets its own palette),
    so the bytes differ while TensorBoard shows the same animation."""
    from PIL import Image

    _, h, w, c = frames.shape
    images = [Image.fromarray(f[:, :, 0] if c == 1 else f) for f in frames]
    buf = io.BytesIO()
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:],
                   duration=1000.0 / fps, loop=0)
    return Summary.Image(height=h, width=w, colorspace=c, encoded_image_string=buf.getvalue())


def video(tag: str, tensor: Any, fps: float = 4) -> Summary:
    """A video summary of a (B, T, C, H, W) batch of clips, tiled into one GIF."""
    frames = _to_uint8(_video_frames(make_np(tensor)))
    return Summary(value=[Summary.Value(tag=tag, image=make_video(frames, fps))])


def audio(tag: str, tensor: Any, sample_rate: int = 44100) -> Summary:
    """A mono 16-bit WAV summary; amplitudes beyond [-1, 1] are clipped with a warning print."""
    import wave

    array = make_np(tensor).squeeze()
    if abs(array).max() > 1:
        print("warning: audio amplitude out of range, auto clipped.")
        array = array.clip(-1, 1)
    if array.ndim != 1:
        raise AssertionError("input tensor should be 1 dimensional.")
    pcm = (array * np.iinfo(np.int16).max).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm.tobytes())
    snd = Summary.Audio(sample_rate=sample_rate, num_channels=1, length_frames=pcm.shape[-1],
                        encoded_audio_string=buf.getvalue(), content_type="audio/wav")
    return Summary(value=[Summary.Value(tag=tag, audio=snd)])


# --- text, custom scalars, PR curves, meshes -------------------------------------------------

def custom_scalars(layout: dict) -> Summary:
    """The custom-scalars layout: ``{category: {title: ["Multiline" | "Margin", tags]}}``."""
    categories = []
    for category, charts in layout.items():
        protos = []
        for title, (kind, tags) in ((t, (m[0], m[1])) for t, m in charts.items()):
            if kind == "Margin":
                if len(tags) != 3:
                    raise AssertionError("len(tags) != 3")
                series = layout_pb2.MarginChartContent.Series(value=tags[0], lower=tags[1],
                                                              upper=tags[2])
                protos.append(layout_pb2.Chart(
                    title=title, margin=layout_pb2.MarginChartContent(series=[series])))
            else:
                protos.append(layout_pb2.Chart(
                    title=title, multiline=layout_pb2.MultilineChartContent(tag=tags)))
        categories.append(layout_pb2.Category(title=category, chart=protos))
    config = layout_pb2.Layout(category=categories).SerializeToString()
    proto = TensorProto(dtype="DT_STRING", string_val=[config], tensor_shape=TensorShapeProto())
    return Summary(value=[Summary.Value(tag="custom_scalars__config__", tensor=proto,
                                        metadata=_plugin_metadata("custom_scalars"))])


def text(tag: str, text: str) -> Summary:
    """A text-plugin summary under ``<tag>/text_summary``."""
    smd = _plugin_metadata("text", TextPluginData(version=0).SerializeToString())
    proto = TensorProto(dtype="DT_STRING", string_val=[text.encode("utf_8")],
                        tensor_shape=_shape_proto([1]))
    return Summary(value=[Summary.Value(tag=tag + "/text_summary", metadata=smd, tensor=proto)])


def _pr_summary(tag: str, data: np.ndarray, num_thresholds: int) -> Summary:
    smd = _plugin_metadata("pr_curves", PrCurvePluginData(
        version=0, num_thresholds=num_thresholds).SerializeToString())
    proto = TensorProto(dtype="DT_FLOAT", float_val=data.reshape(-1).tolist(),
                        tensor_shape=_shape_proto(data.shape[:2]))
    return Summary(value=[Summary.Value(tag=tag, metadata=smd, tensor=proto)])


def pr_curve_raw(tag, tp, fp, tn, fn, precision, recall, num_thresholds=127, weights=None):
    """A PR-curve summary from precomputed counts (thresholds capped at 127 like PyTorch)."""
    data = np.stack([np.asarray(make_np(a) if isinstance(a, Tensor) else a)
                     for a in (tp, fp, tn, fn, precision, recall)])
    return _pr_summary(tag, data, min(num_thresholds, 127))


def compute_curve(labels, predictions, num_thresholds=None, weights=None) -> np.ndarray:
    """The (6, num_thresholds) TP/FP/TN/FN/precision/recall table of PyTorch's
    ``compute_curve``: predictions binned into ``num_thresholds`` buckets, counts accumulated
    from the top threshold down."""
    weights = 1.0 if weights is None else weights
    buckets = np.int32(np.floor(predictions * (num_thresholds - 1)))
    positive = labels.astype(np.float64)
    span = (0, num_thresholds - 1)
    tp_b, _ = np.histogram(buckets, bins=num_thresholds, range=span, weights=positive * weights)
    fp_b, _ = np.histogram(buckets, bins=num_thresholds, range=span,
                           weights=(1.0 - positive) * weights)
    tp = np.cumsum(tp_b[::-1])[::-1]
    fp = np.cumsum(fp_b[::-1])[::-1]
    tn, fn = fp[0] - fp, tp[0] - tp
    precision = tp / np.maximum(1e-7, tp + fp)
    recall = tp / np.maximum(1e-7, tp + fn)
    return np.stack((tp, fp, tn, fn, precision, recall))


def pr_curve(tag, labels, predictions, num_thresholds=127, weights=None) -> Summary:
    """A PR-curve summary of binary ``labels`` against ``predictions`` in [0, 1]."""
    num_thresholds = min(num_thresholds, 127)
    data = compute_curve(make_np(labels), make_np(predictions), num_thresholds,
                         None if weights is None else make_np(weights))
    return _pr_summary(tag, data, num_thresholds)


def mesh(tag, vertices, colors, faces, config_dict, display_name=None,
         description=None) -> Summary:
    """The mesh plugin's vertex/face/color summaries ([B, N, 3] each, the absent ones left out)."""
    from tensorboard.plugins.mesh import metadata
    from tensorboard.plugins.mesh.plugin_data_pb2 import MeshPluginData

    json_config = "{}" if config_dict is None else json.dumps(config_dict, sort_keys=True)
    parts = [(make_np(t), kind) for t, kind in ((vertices, MeshPluginData.VERTEX),
                                                (faces, MeshPluginData.FACE),
                                                (colors, MeshPluginData.COLOR)) if t is not None]
    components = metadata.get_components_bitmask([kind for _, kind in parts])
    values = []
    for arr, kind in parts:
        smd = metadata.create_summary_metadata(tag, display_name, kind, components, arr.shape,
                                               description, json_config=json_config)
        proto = TensorProto(dtype="DT_FLOAT", float_val=arr.reshape(-1).tolist(),
                            tensor_shape=_shape_proto(arr.shape[:3]))
        values.append(Summary.Value(tag=metadata.get_instance_name(tag, kind), tensor=proto,
                                    metadata=smd))
    return Summary(value=values)
