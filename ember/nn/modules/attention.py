"""``torch.nn.MultiheadAttention`` (PyTorch keeps it in ``torch.nn.modules.activation``)."""

from __future__ import annotations

from ..._tensor import Tensor
from ...autograd.grad_mode import is_grad_enabled
from ...ops.creation import empty
from .. import _mha, init
from ..parameter import Parameter
from .linear import NonDynamicallyQuantizableLinear
from .module import Module

__all__ = ["MultiheadAttention"]


def _requires_grad(*tensors) -> bool:
    return is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors)


class MultiheadAttention(Module):
    """``torch.nn.MultiheadAttention(embed_dim, num_heads, dropout=0.0, bias=True,
    add_bias_kv=False, add_zero_attn=False, kdim=None, vdim=None, batch_first=False)``.

    Parameters, their names and their initialisation are PyTorch's: a packed
    ``in_proj_weight (3E, E)`` (xavier uniform), or ``q/k/v_proj_weight`` when ``kdim``/``vdim``
    differ from ``embed_dim``; ``in_proj_bias`` and ``out_proj.bias`` zero; ``bias_k``/``bias_v``
    xavier normal. ``forward`` is :func:`ember.nn.functional.multi_head_attention_forward`.

    PyTorch answers some eval-mode calls with a native kernel (its "fast path": batch-first
    self-attention with boolean or no masks, no gradient needed, ...). Its numbers are those of
    the regular path except that fully masked rows come out NaN instead of zero and the
    ``is_causal`` hint is ignored; ember reproduces both under the same conditions.
    """

    __constants__ = ["batch_first"]

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device=None,
                 dtype=None) -> None:
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        fk = {"device": device, "dtype": dtype}
        super().__init__()
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != self.embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(empty((embed_dim, embed_dim), **fk))
            self.k_proj_weight = Parameter(empty((embed_dim, self.kdim), **fk))
            self.v_proj_weight = Parameter(empty((embed_dim, self.vdim), **fk))
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = Parameter(empty((3 * embed_dim, embed_dim), **fk))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(empty(3 * embed_dim, **fk))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **fk)
        if add_bias_kv:
            self.bias_k = Parameter(empty((1, 1, embed_dim), **fk))
            self.bias_v = Parameter(empty((1, 1, embed_dim), **fk))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def __setstate__(self, state: dict) -> None:
        # modules pickled before kdim/vdim existed
        state.setdefault("_qkv_same_embed_dim", True)
        super().__setstate__(state)

    def _fast_path(self, query: Tensor, key: Tensor, value: Tensor, attn_mask, kpm) -> bool:
        """Whether PyTorch would run its native kernel for this call."""
        if (attn_mask is not None and attn_mask.is_floating_point()) or \
                (kpm is not None and kpm.is_floating_point()):
            return False
        return (query.dim() == 3 and query is key and key is value
                and self.in_proj_weight is not None and self.in_proj_bias is not None
                and query.dtype is self.in_proj_weight.dtype is self.in_proj_bias.dtype
                and not self.training and self.num_heads % 2 == 0 and self.batch_first
                and self.bias_k is None and self.bias_v is None and not self.add_zero_attn
                and self._qkv_same_embed_dim
                and not _requires_grad(query, self.in_proj_weight, self.in_proj_bias,
                                       self.out_proj.weight, self.out_proj.bias))

    def forward(self, query: Tensor, key: Tensor, value: Tensor,
                key_padding_mask: Tensor | None = None, need_weights: bool = True,
                attn_mask: Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        """Attention output ``(L, N, E)`` (``(N, L, E)`` batch-first, ``(L, E)`` unbatched)
        and, with ``need_weights``, the attention weights."""
        fast = self._fast_path(query, key, value, attn_mask, key_padding_mask)
        return self._attend(query, key, value, key_padding_mask, need_weights, attn_mask,
                            average_attn_weights, is_causal, fast)

    def _attend(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask,
                need_weights: bool, attn_mask, average_attn_weights: bool, is_causal: bool,
                fast: bool) -> tuple[Tensor, Tensor | None]:
        """``forward`` with the fast-path decision made by the caller (the Transformer
        layers make it for their own native kernel)."""
        is_batched = query.dim() == 3
        key_padding_mask = _mha._canonical_mask(key_padding_mask, "key_padding_mask",
                                                _mha._none_or_dtype(attn_mask), "attn_mask",
                                                query.dtype)
        attn_mask = _mha._canonical_mask(attn_mask, "attn_mask", None, "", query.dtype,
                                         check_other=False)
        if fast:
            is_causal = False  # the native kernel uses the mask and ignores the hint
        if self.batch_first and is_batched:
            # keep the identities that select the packed projections
            if key is value:
                if query is key:
                    query = key = value = query.transpose(1, 0)
                else:
                    query = query.transpose(1, 0)
                    key = value = key.transpose(1, 0)
            else:
                query, key, value = (x.transpose(1, 0) for x in (query, key, value))
        sep = not self._qkv_same_embed_dim
        out, weights = _mha._mha_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight,
            self.in_proj_bias, self.bias_k, self.bias_v, self.add_zero_attn, self.dropout,
            self.out_proj.weight, self.out_proj.bias, self.training, key_padding_mask,
            need_weights, attn_mask, sep, self.q_proj_weight, self.k_proj_weight,
            self.v_proj_weight, None, None, average_attn_weights, is_causal, not fast)
        if self.batch_first and is_batched:
            out = out.transpose(1, 0)
        return out, weights

    def merge_masks(self, attn_mask: Tensor | None, key_padding_mask: Tensor | None,
                    query: Tensor) -> tuple[Tensor | None, int | None]:
        """One mask from ``attn_mask`` and ``key_padding_mask`` for batch-first self-attention,
        with PyTorch's type code (1: padding mask only, 2: ``(N, H, L, L)`` mask)."""
        mask_type = merged = None
        if key_padding_mask is not None:
            mask_type, merged = 1, key_padding_mask
        if attn_mask is not None:
            n, L, _ = query.shape
            mask_type = 2
            if attn_mask.dim() == 3:
                merged = attn_mask.view(n, -1, L, L)
            else:
                merged = attn_mask.view(1, 1, L, L).expand(n, self.num_heads, -1, -1)
            if key_padding_mask is not None:
                merged = merged + key_padding_mask.view(n, 1, 1, L).expand(
                    -1, self.num_heads, -1, -1)
        return merged, mask_type
