"""Model registry and pretrained-weight descriptors (``torchvision.models._api``).

ember does not download weights. The ``*_Weights`` enums exist so that code naming them keeps
working (``weights.transforms()`` gives the evaluation preset), but building a model with
``weights=`` (or ``pretrained=True``) raises ``PretrainedWeightsUnavailable``, which explains
how to load a local checkpoint file instead: torchvision's ``.pth`` files load unchanged with
``model.load_state_dict(ember.load(path))``.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from ..transforms._presets import ImageClassification

__all__ = ["Weights", "WeightsEnum", "PretrainedWeightsUnavailable", "register_model",
           "list_models", "get_model", "get_model_builder", "get_model_weights", "get_weight"]


class PretrainedWeightsUnavailable(RuntimeError):
    """Raised when a model is asked for pretrained weights, which ember cannot download."""


@dataclass
class Weights:
    """Where torchvision publishes a checkpoint, its evaluation transforms and metadata."""

    url: str
    transforms: Callable
    meta: dict[str, Any] = field(default_factory=dict)


class WeightsEnum(Enum):
    """Base of the ``*_Weights`` enums; ``DEFAULT`` aliases the recommended entry."""

    @classmethod
    def verify(cls, obj: Any) -> Any:
        if obj is not None:
            if isinstance(obj, str):
                obj = cls[obj.replace(cls.__name__ + ".", "")]
            elif not isinstance(obj, cls):
                raise TypeError(f"Invalid Weight class provided; expected {cls.__name__} but "
                                f"received {obj.__class__.__name__}.")
        return obj

    def get_state_dict(self, *args: Any, **kwargs: Any) -> Any:
        raise PretrainedWeightsUnavailable(_no_download_message(None, self))

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}.{self._name_}"

    @property
    def url(self) -> str:
        return self.value.url

    @property
    def transforms(self) -> Callable:
        return self.value.transforms

    @property
    def meta(self) -> dict[str, Any]:
        return self.value.meta


def _classification(url: str, crop_size: int = 224, resize_size: int = 256) -> Weights:
    return Weights(url=url, transforms=functools.partial(ImageClassification,
                                                         crop_size=crop_size,
                                                         resize_size=resize_size),
                   meta={"min_size": (1, 1)})


def _no_download_message(builder: str | None, weights: Any) -> str:
    name = weights if isinstance(weights, str) else repr(weights)
    url = getattr(getattr(weights, "value", None), "url", None)
    where = f" torchvision publishes them at {url}:" if url else ""
    call = f"ember.vision.models.{builder}()" if builder else "the model built with weights=None"
    what = f"{builder}(weights={name})" if builder else name
    return (f"ember cannot download pretrained weights ({what}).{where} download the "
            f"checkpoint file once, then build {call} and load it with "
            "model.load_state_dict(ember.load('/path/to/checkpoint.pth')); torchvision's .pth "
            "files load as they are.")


def _reject_weights(builder: str, weights: Any, weights_enum: type[WeightsEnum] | None,
                    kwargs: dict[str, Any]) -> None:
    """Handle torchvision's legacy ``pretrained=`` and refuse any pretrained request."""
    if "pretrained" in kwargs:
        pretrained = kwargs.pop("pretrained")
        warnings.warn("The parameter 'pretrained' is deprecated since 0.13 and may be removed "
                      "in the future, please use 'weights' instead.", UserWarning, stacklevel=3)
        if pretrained and weights is None:
            weights = "DEFAULT"
    for legacy in ("pretrained_backbone",):
        kwargs.pop(legacy, None)
    if weights is None:
        return
    if weights_enum is not None and isinstance(weights, (str, WeightsEnum)):
        try:
            weights = weights_enum.verify(weights)
        except KeyError:
            raise ValueError(f"Unknown weights {weights!r} for {builder}; known: "
                             f"{[w for w in weights_enum.__members__]}") from None
    raise PretrainedWeightsUnavailable(_no_download_message(builder, weights))


BUILTIN_MODELS: dict[str, Callable[..., Any]] = {}
_MODEL_WEIGHTS: dict[str, type[WeightsEnum] | None] = {}


def register_model(name: str | None = None,
                   weights: type[WeightsEnum] | None = None) -> Callable:
    def wrapper(fn: Callable) -> Callable:
        key = name if name is not None else fn.__name__
        if key in BUILTIN_MODELS:
            raise ValueError(f"An entry is already registered under the name '{key}'.")
        BUILTIN_MODELS[key] = fn
        _MODEL_WEIGHTS[key] = weights
        return fn
    return wrapper


def list_models(module: Any = None, include: Any = None, exclude: Any = None) -> list[str]:
    """Sorted names of the registered model builders (``include``/``exclude``: fnmatch
    patterns; ``module``: only builders defined in that module)."""
    import fnmatch

    names = {k for k, v in BUILTIN_MODELS.items()
             if module is None or v.__module__.rsplit(".", 1)[0] == module.__name__
             or v.__module__ == module.__name__}
    if include:
        pats = [include] if isinstance(include, str) else include
        names = {n for n in names if any(fnmatch.fnmatch(n, p) for p in pats)}
    if exclude:
        pats = [exclude] if isinstance(exclude, str) else exclude
        names = {n for n in names if not any(fnmatch.fnmatch(n, p) for p in pats)}
    return sorted(names)


def get_model_builder(name: str) -> Callable[..., Any]:
    name = name.lower()
    try:
        return BUILTIN_MODELS[name]
    except KeyError:
        raise ValueError(f"Unknown model {name}") from None


def get_model(name: str, **config: Any) -> Any:
    """Build the registered model ``name`` with ``config`` (e.g. ``num_classes``)."""
    return get_model_builder(name)(**config)


def get_model_weights(name: Callable | str) -> type[WeightsEnum]:
    if callable(name):
        name = name.__name__
    get_model_builder(name)
    weights = _MODEL_WEIGHTS[name.lower()]
    if weights is None:
        raise ValueError(f"The model {name} has no weights enum")
    return weights


def get_weight(name: str) -> WeightsEnum:
    """``get_weight('ResNet50_Weights.IMAGENET1K_V1')``."""
    try:
        enum_name, value_name = name.split(".")
    except ValueError:
        raise ValueError(f"Invalid weight name provided: '{name}'.") from None
    for enum in _MODEL_WEIGHTS.values():
        if enum is not None and enum.__name__ == enum_name:
            return enum[value_name]
    raise ValueError(f"The weight enum '{enum_name}' for the specific method couldn't be "
                     "retrieved.")
