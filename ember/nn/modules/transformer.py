"""``torch.nn.Transformer`` and its encoder/decoder stacks and layers
(``torch.nn.modules.transformer``).

Parameter names, initialisation, reprs and outputs are PyTorch's. PyTorch runs some eval-mode
calls through native kernels and nested tensors ("fast paths"); ember computes the regular way
but reproduces what those paths change in the numbers: fully masked attention rows come out
NaN instead of zero, and a ``TransformerEncoder`` given a padding mask returns zeros at the
padded positions (its nested tensors drop them), treating a mask that is not left-aligned as
the left-aligned one with the same lengths when ``mask_check=False``.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from typing import Any

from ... import _backend
from ..._tensor import Tensor
from ...autograd.grad_mode import is_grad_enabled
from ...ops import creation as _creation
from ...ops import pointwise as _pw
from ...ops import shape as _shape
from .. import _mha
from .. import functional as F
from ..init import xavier_uniform_
from .activation import GELU, ReLU
from .attention import MultiheadAttention
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .normalization import LayerNorm

__all__ = ["Transformer", "TransformerEncoder", "TransformerDecoder", "TransformerEncoderLayer",
           "TransformerDecoderLayer"]


def _generate_square_subsequent_mask(sz: int, device=None, dtype=None) -> Tensor:
    """``(sz, sz)`` float mask: ``-inf`` above the diagonal, ``0`` elsewhere."""
    full = _creation.full((sz, sz), float("-inf"), dtype=dtype, device=device)
    return _shape.triu(full, diagonal=1)


def _get_seq_len(src: Tensor, batch_first: bool) -> int:
    s = src.shape
    if len(s) == 2:
        return s[0]
    return s[1 if batch_first else 0]


def _detect_is_causal_mask(mask: Tensor | None, is_causal: bool | None = None,
                           size: int | None = None) -> bool:
    """``is_causal`` if given; otherwise whether ``mask`` equals the causal mask."""
    make_causal = is_causal is True
    if is_causal is None and mask is not None:
        sz = size if size is not None else mask.size(-2)
        causal = _generate_square_subsequent_mask(sz, device=mask.device, dtype=mask.dtype)
        if tuple(mask.shape) == tuple(causal.shape):
            make_causal = bool((mask == causal).all())
        else:
            make_causal = False
    return make_causal


def _get_clones(module: Module, n: int) -> ModuleList:
    return ModuleList([copy.deepcopy(module) for _ in range(n)])


def _get_activation_fn(activation: str) -> Callable[[Tensor], Tensor]:
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    raise RuntimeError(f"activation should be relu/gelu, not {activation}")


def _needs_grad(tensors) -> bool:
    return is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors)


def _has_hooks(module: Module) -> bool:
    return any(len(getattr(m, "_forward_hooks", {})) + len(getattr(m, "_forward_pre_hooks", {}))
               for m in module.modules())


class Transformer(Module):
    """``torch.nn.Transformer``: an encoder stack and a decoder stack, each closed by a
    LayerNorm; every weight matrix is re-initialised xavier-uniform."""

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str | Callable[[Tensor], Tensor] = F.relu,
                 custom_encoder: Any | None = None, custom_decoder: Any | None = None,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None) -> None:
        fk = {"device": device, "dtype": dtype}
        super().__init__()
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            layer = TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation,
                                            layer_norm_eps, batch_first, norm_first, bias, **fk)
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **fk)
            self.encoder = TransformerEncoder(layer, num_encoder_layers, norm)
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            layer = TransformerDecoderLayer(d_model, nhead, dim_feedforward, dropout, activation,
                                            layer_norm_eps, batch_first, norm_first, bias, **fk)
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **fk)
            self.decoder = TransformerDecoder(layer, num_decoder_layers, norm)
        self._reset_parameters()
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first

    def forward(self, src: Tensor, tgt: Tensor, src_mask: Tensor | None = None,
                tgt_mask: Tensor | None = None, memory_mask: Tensor | None = None,
                src_key_padding_mask: Tensor | None = None,
                tgt_key_padding_mask: Tensor | None = None,
                memory_key_padding_mask: Tensor | None = None,
                src_is_causal: bool | None = None, tgt_is_causal: bool | None = None,
                memory_is_causal: bool = False) -> Tensor:
        """Encode ``src``, decode ``tgt`` against the result."""
        is_batched = src.dim() == 3
        if is_batched and src.size(0 if self.batch_first else 1) != \
                tgt.size(0 if self.batch_first else 1):
            raise RuntimeError("the batch number of src and tgt must be equal")
        if src.size(-1) != self.d_model or tgt.size(-1) != self.d_model:
            raise RuntimeError("the feature number of src and tgt must be equal to d_model")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device=None, dtype=None) -> Tensor:
        """Causal float mask for a sequence of length ``sz``: ``-inf`` above the diagonal."""
        return _generate_square_subsequent_mask(sz, device=device, dtype=dtype)

    def _reset_parameters(self) -> None:
        for p in self.parameters():
            if p.dim() > 1:
                xavier_uniform_(p)


class TransformerEncoder(Module):
    """``torch.nn.TransformerEncoder(encoder_layer, num_layers, norm=None,
    enable_nested_tensor=True, mask_check=True)``: ``num_layers`` deep copies of the layer."""

    __constants__ = ["norm"]

    def __init__(self, encoder_layer: TransformerEncoderLayer, num_layers: int,
                 norm: Module | None = None, enable_nested_tensor: bool = True,
                 mask_check: bool = True) -> None:
        super().__init__()
        self.layers = _get_clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = enable_nested_tensor
        self.mask_check = mask_check
        why = _why_not_nested(encoder_layer)
        if enable_nested_tensor and why:
            warnings.warn(f"enable_nested_tensor is True, but self.use_nested_tensor is False "
                          f"because {why}", stacklevel=2)
            self.use_nested_tensor = False

    def forward(self, src: Tensor, mask: Tensor | None = None,
                src_key_padding_mask: Tensor | None = None,
                is_causal: bool | None = None) -> Tensor:
        """Run ``src`` through every layer, then ``norm``."""
        kpm = _mha._canonical_mask(src_key_padding_mask, "src_key_padding_mask",
                                   _mha._none_or_dtype(mask), "mask", src.dtype)
        mask = _mha._canonical_mask(mask, "mask", None, "", src.dtype, check_other=False)
        first = self.layers[0]
        batch_first = first.self_attn.batch_first
        valid = self._nested_valid(src, mask, kpm)
        if valid is not None:
            # what PyTorch's nested tensors compute: each sequence cut to its length
            xp = _backend.array_module(valid)
            kpm = Tensor._make(xp.where(valid, src._data.dtype.type(0),
                                        src._data.dtype.type(float("-inf"))))
        seq_len = _get_seq_len(src, batch_first)
        is_causal = _detect_is_causal_mask(mask, is_causal, seq_len)
        output = src
        for mod in self.layers:
            output = mod(output, src_mask=mask, is_causal=is_causal, src_key_padding_mask=kpm)
        if valid is not None:
            keep = Tensor._make(valid[..., None])
            output = _pw.where(keep, output, _creation.zeros((), dtype=output.dtype,
                                                             device=output.device))
        if self.norm is not None:
            output = self.norm(output)
        return output

    def _nested_valid(self, src: Tensor, mask, kpm):
        """The ``(N, S)`` array of positions PyTorch's nested-tensor path keeps (left-aligned
        runs of the unpadded lengths), or None when PyTorch would not take that path."""
        first = self.layers[0]
        if not getattr(self, "use_nested_tensor", False) or first.training or src.dim() != 3 \
                or kpm is None or mask is not None:
            return None
        sa = first.self_attn
        if _needs_grad((src, sa.in_proj_weight, sa.in_proj_bias, sa.out_proj.weight,
                        sa.out_proj.bias, first.norm1.weight, first.norm1.bias,
                        first.norm2.weight, first.norm2.bias, first.linear1.weight,
                        first.linear1.bias, first.linear2.weight, first.linear2.bias)):
            return None
        keep = kpm._data == 0
        xp = _backend.array_module(keep)
        if getattr(self, "mask_check", True) and bool((keep[:, 1:] > keep[:, :-1]).any()):
            return None  # not left-aligned
        lengths = keep.sum(axis=1, keepdims=True)
        return xp.arange(keep.shape[1])[None, :] < lengths


def _why_not_nested(layer) -> str:
    """PyTorch's reason (empty if none) why an encoder of ``layer`` cannot use nested tensors."""
    name = "encoder_layer"
    if not isinstance(layer, TransformerEncoderLayer):
        return f"{name} was not TransformerEncoderLayer"
    if layer.norm_first:
        return f"{name}.norm_first was True"
    if not layer.self_attn.batch_first:
        return (f"{name}.self_attn.batch_first was not True(use batch_first for better "
                f"inference performance)")
    if not layer.self_attn._qkv_same_embed_dim:
        return f"{name}.self_attn._qkv_same_embed_dim was not True"
    if layer.self_attn.in_proj_bias is None:
        return f"{name}.self_attn was passed bias=False"
    if not layer.activation_relu_or_gelu:
        return f"{name}.activation_relu_or_gelu was not True"
    if layer.norm1.eps != layer.norm2.eps:
        return f"{name}.norm1.eps was not equal to {name}.norm2.eps"
    if layer.self_attn.num_heads % 2 == 1:
        return f"{name}.self_attn.num_heads is odd"
    return ""


class TransformerDecoder(Module):
    """``torch.nn.TransformerDecoder(decoder_layer, num_layers, norm=None)``."""

    __constants__ = ["norm"]

    def __init__(self, decoder_layer: TransformerDecoderLayer, num_layers: int,
                 norm: Module | None = None) -> None:
        super().__init__()
        self.layers = _get_clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None,
                memory_mask: Tensor | None = None, tgt_key_padding_mask: Tensor | None = None,
                memory_key_padding_mask: Tensor | None = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False) -> Tensor:
        """Run ``tgt`` through every layer (each attending to ``memory``), then ``norm``."""
        output = tgt
        seq_len = _get_seq_len(tgt, self.layers[0].self_attn.batch_first)
        tgt_is_causal = _detect_is_causal_mask(tgt_mask, tgt_is_causal, seq_len)
        for mod in self.layers:
            output = mod(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                         tgt_key_padding_mask=tgt_key_padding_mask,
                         memory_key_padding_mask=memory_key_padding_mask,
                         tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        if self.norm is not None:
            output = self.norm(output)
        return output


def _add_sublayers(layer: Module, n_blocks: int, d_model: int, dim_feedforward: int,
                   dropout: float, eps: float, norm_first: bool, bias: bool, fk: dict) -> None:
    """The feed-forward block, then one LayerNorm and one Dropout per residual block, in
    PyTorch's registration order (which fixes the state-dict order)."""
    layer.linear1 = Linear(d_model, dim_feedforward, bias=bias, **fk)
    layer.dropout = Dropout(dropout)
    layer.linear2 = Linear(dim_feedforward, d_model, bias=bias, **fk)
    layer.norm_first = norm_first
    for i in range(1, n_blocks + 1):
        setattr(layer, f"norm{i}", LayerNorm(d_model, eps=eps, bias=bias, **fk))
    for i in range(1, n_blocks + 1):
        setattr(layer, f"dropout{i}", Dropout(dropout))


def _feed_forward(layer: Module, x: Tensor) -> Tensor:
    return layer.linear2(layer.dropout(layer.activation(layer.linear1(x))))


class TransformerEncoderLayer(Module):
    """``torch.nn.TransformerEncoderLayer``: self-attention then a feed-forward block, each
    with dropout, a residual connection and LayerNorm (after each block, or before it with
    ``norm_first``)."""

    __constants__ = ["norm_first"]

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: str | Callable[[Tensor], Tensor] = F.relu,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None) -> None:
        fk = {"device": device, "dtype": dtype}
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, **fk)
        _add_sublayers(self, 2, d_model, dim_feedforward, dropout, layer_norm_eps, norm_first,
                       bias, fk)
        if isinstance(activation, str):
            activation = _get_activation_fn(activation)
        if activation is F.relu or isinstance(activation, ReLU):
            self.activation_relu_or_gelu = 1
        elif activation is F.gelu or isinstance(activation, GELU):
            self.activation_relu_or_gelu = 2
        else:
            self.activation_relu_or_gelu = 0
        self.activation = activation

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        if not hasattr(self, "activation"):
            self.activation = F.relu

    def forward(self, src: Tensor, src_mask: Tensor | None = None,
                src_key_padding_mask: Tensor | None = None, is_causal: bool = False) -> Tensor:
        """``src`` ``(S, N, E)`` (``(N, S, E)`` batch-first, ``(S, E)`` unbatched)."""
        kpm = _mha._canonical_mask(src_key_padding_mask, "src_key_padding_mask",
                                   _mha._none_or_dtype(src_mask), "src_mask", src.dtype)
        src_mask = _mha._canonical_mask(src_mask, "src_mask", None, "", src.dtype,
                                        check_other=False)
        fast = self._fast_path(src)
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, kpm, is_causal, fast)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, kpm, is_causal, fast))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _fast_path(self, src: Tensor) -> bool:
        """Whether PyTorch would run its native encoder-layer kernel for this call."""
        sa = self.self_attn
        if src.dim() != 3 or self.training or not sa.batch_first or sa.in_proj_bias is None \
                or not sa._qkv_same_embed_dim or not self.activation_relu_or_gelu \
                or self.norm1.eps != self.norm2.eps or sa.num_heads % 2 == 1 \
                or _has_hooks(self):
            return False
        return not _needs_grad((src, sa.in_proj_weight, sa.in_proj_bias, sa.out_proj.weight,
                                sa.out_proj.bias, self.norm1.weight, self.norm1.bias,
                                self.norm2.weight, self.norm2.bias, self.linear1.weight,
                                self.linear1.bias, self.linear2.weight, self.linear2.bias))

    def _sa_block(self, x: Tensor, attn_mask, key_padding_mask, is_causal: bool = False,
                  fast: bool = False) -> Tensor:
        if fast:
            attn_mask, key_padding_mask = _native_masks(attn_mask, key_padding_mask, x,
                                                        self.self_attn.num_heads)
            x = self.self_attn._attend(x, x, x, key_padding_mask, False, attn_mask, True,
                                       is_causal, True)[0]
        else:
            x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                               need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x: Tensor) -> Tensor:
        return self.dropout2(_feed_forward(self, x))


def _native_masks(attn_mask, kpm, x: Tensor, heads: int):
    """The masks PyTorch's native encoder-layer kernel effectively applies: merged the way
    ``MultiheadAttention.merge_masks`` merges them, then read as booleans (every nonzero entry
    masked, whatever its value). Returns (attn_mask, key_padding_mask) for the regular path."""
    if attn_mask is None and kpm is None:
        return None, None
    n, L = x.shape[0], x.shape[1]
    if attn_mask is None:
        return None, _as_native(kpm)
    merged = attn_mask.reshape(-1, heads, L, L) if attn_mask.dim() == 3 else attn_mask
    if kpm is not None:
        merged = merged + kpm.reshape(n, 1, 1, L)
    merged = _as_native(merged).expand(n, heads, L, L).reshape(n * heads, L, L)
    return merged, None


def _as_native(mask: Tensor) -> Tensor:
    """0 where ``mask`` is 0, ``-inf`` elsewhere (a float mask read as a boolean one)."""
    z = _creation.zeros((), dtype=mask.dtype, device=mask.device)
    return _pw.where(mask == 0, z, z - float("inf"))


class TransformerDecoderLayer(Module):
    """``torch.nn.TransformerDecoderLayer``: self-attention, attention over ``memory``, then a
    feed-forward block, each with dropout, a residual connection and LayerNorm."""

    __constants__ = ["norm_first"]

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: str | Callable[[Tensor], Tensor] = F.relu,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None) -> None:
        fk = {"device": device, "dtype": dtype}
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout,
                                            batch_first=batch_first, bias=bias, **fk)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout,
                                                 batch_first=batch_first, bias=bias, **fk)
        _add_sublayers(self, 3, d_model, dim_feedforward, dropout, layer_norm_eps, norm_first,
                       bias, fk)
        self.activation = _get_activation_fn(activation) if isinstance(activation, str) \
            else activation

    def __setstate__(self, state: dict) -> None:
        state.setdefault("activation", F.relu)
        super().__setstate__(state)

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None,
                memory_mask: Tensor | None = None, tgt_key_padding_mask: Tensor | None = None,
                memory_key_padding_mask: Tensor | None = None, tgt_is_causal: bool = False,
                memory_is_causal: bool = False) -> Tensor:
        """``tgt`` ``(T, N, E)`` against ``memory`` ``(S, N, E)`` (batch-first: N first)."""
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask,
                                    memory_is_causal)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask,
                                               memory_is_causal))
            x = self.norm3(x + self._ff_block(x))
        return x

    def _sa_block(self, x: Tensor, attn_mask, key_padding_mask, is_causal: bool = False
                  ) -> Tensor:
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           is_causal=is_causal, need_weights=False)[0]
        return self.dropout1(x)

    def _mha_block(self, x: Tensor, mem: Tensor, attn_mask, key_padding_mask,
                   is_causal: bool = False) -> Tensor:
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask,
                                key_padding_mask=key_padding_mask, is_causal=is_causal,
                                need_weights=False)[0]
        return self.dropout2(x)

    def _ff_block(self, x: Tensor) -> Tensor:
        return self.dropout3(_feed_forward(self, x))
