"""The next-item network: a causal transformer over the shopper's item sequence (SASRec-style).

Item ids are shifted by one so that 0 pads (sequences are left-padded: the newest item is always in the
last slot). An item's vector is its own embedding plus the mean of its side-feature embeddings; the
same table scores the output (tied weights), so the logits of all items are one matrix product.
Positions count from the first item of the window, so a prefix is encoded the same way whether or not
later items follow it (what causal all-position training needs).

Each layer can mix a causal frequency filter into the attention output, after BSARec (Shin et al.,
AAAI 2024): a low-pass part plus the high-pass rest rescaled per dimension by a learned ``beta``.
BSARec low-passes with an FFT over the whole padded window, which would leak the future under
all-position training. Here the low-pass is a causal convolution: either a moving average over the last
``filter_window`` items, or (``filter_frequencies`` = k > 0) exactly what BSARec's filter gives the
newest slot of a ``max_len`` window when it keeps the k lowest frequencies, applied at every position.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from shopguide.recommend.sequential.config import SequentialConfig
from shopguide.recommend.sequential.export import causal_toeplitz, filter_kernel
from shopguide.recommend.sequential.features import ItemFeatures


class CausalFilter(nn.Module):
    """``low + beta * (x - low)``, ``low[t] = sum_d kernel[d] * x[t - d]`` (pads and the time before count as 0)."""

    def __init__(self, dim: int, kernel: np.ndarray, max_len: int) -> None:
        super().__init__()
        # the filter as a (max_len x max_len) matrix; derived from the config, so not in the state dict
        self.register_buffer("toeplitz", torch.from_numpy(causal_toeplitz(kernel, max_len)), persistent=False)
        self.beta = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        n = x.shape[1]
        x = x * valid[..., None]
        low = self.toeplitz[-n:, -n:] @ x  # a Toeplitz matrix's trailing block is the n-item filter
        return low + self.beta * (x - low)


class Block(nn.Module):
    """Causal self-attention (optionally mixed with the filter) and a GELU feed-forward layer, pre- or post-norm."""

    def __init__(self, cfg: SequentialConfig) -> None:
        super().__init__()
        d = cfg.dim
        self.heads = cfg.heads
        self.attention_dropout = cfg.attention_dropout
        self.norm1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)
        self.mix = cfg.filter_mix
        self.filter = CausalFilter(d, filter_kernel(cfg), cfg.max_len) if cfg.filter_mix > 0 else None
        self.norm2 = nn.LayerNorm(d)
        self.ffn = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Dropout(cfg.dropout), nn.Linear(4 * d, d))
        self.drop = nn.Dropout(cfg.dropout)
        self.post_norm = cfg.post_norm

    def forward(self, x: torch.Tensor, allowed: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        h = x if self.post_norm else self.norm1(x)
        q, k, v = self.qkv(h).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        p = self.attention_dropout if self.training else 0.0
        att = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed, dropout_p=p)
        mixed = self.out(att.transpose(1, 2).reshape(b, n, d))
        if self.filter is not None:
            mixed = (1.0 - self.mix) * mixed + self.mix * self.filter(h, valid)
        if self.post_norm:
            x = self.norm1(x + self.drop(mixed))
            return self.norm2(x + self.drop(self.ffn(x)))
        x = x + self.drop(mixed)
        return x + self.drop(self.ffn(self.norm2(x)))


class SequenceNetwork(nn.Module):
    """Encodes left-padded item sequences; ``item_table`` gives the vectors every position is scored against."""

    def __init__(self, n_items: int, cfg: SequentialConfig, features: ItemFeatures | None = None) -> None:
        super().__init__()
        if cfg.dim % cfg.heads:
            raise ValueError(f"dim ({cfg.dim}) must be a multiple of heads ({cfg.heads})")
        self.n_items = n_items
        self.max_len = cfg.max_len
        self.items = nn.Embedding(n_items + 1, cfg.dim, padding_idx=0)
        self.positions = nn.Embedding(cfg.max_len, cfg.dim)
        self.side: nn.EmbeddingBag | None = None
        if features is not None and features.n_features:
            self.side = nn.EmbeddingBag(features.n_features, cfg.dim, mode="mean")
            self.register_buffer("feature_ids", torch.as_tensor(features.ids), persistent=True)
            self.register_buffer("feature_offsets", torch.as_tensor(features.offsets[:-1]), persistent=True)
        self.input_norm = nn.LayerNorm(cfg.dim)
        self.input_drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.layers))
        self.final_norm = nn.Identity() if cfg.post_norm else nn.LayerNorm(cfg.dim)
        self.apply(_init_weights)

    def item_table(self) -> torch.Tensor:
        """``(n_items + 1, dim)``: row 0 is the pad, row ``i + 1`` is item ``i``."""
        table = self.items.weight
        if self.side is not None:
            side = self.side(self.feature_ids, self.feature_offsets)  # items without features get zeros
            table = table + F.pad(side, (0, 0, 1, 0))
        return table

    def forward(self, seq: torch.Tensor, table: torch.Tensor | None = None) -> torch.Tensor:
        """Hidden states ``(batch, length, dim)`` of left-padded sequences ``seq`` (0 = pad, item i = i + 1)."""
        table = self.item_table() if table is None else table
        valid = seq > 0
        n = seq.shape[1]
        start = n - valid.sum(dim=1, keepdim=True)
        pos = (torch.arange(n, device=seq.device)[None, :] - start).clamp(min=0, max=self.max_len - 1)
        x = self.input_drop(self.input_norm(table[seq] + self.positions(pos)))
        causal = torch.ones(n, n, dtype=torch.bool, device=seq.device).tril()
        eye = torch.eye(n, dtype=torch.bool, device=seq.device)
        allowed = ((causal[None] & valid[:, None, :]) | eye[None])[:, None]  # pads attend to themselves only
        for block in self.blocks:
            x = block(x, allowed, valid)
        return self.final_norm(x)


def _init_weights(module: nn.Module) -> None:
    if isinstance(module, nn.Linear | nn.Embedding | nn.EmbeddingBag):
        nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)
    if isinstance(module, nn.Embedding) and module.padding_idx is not None:
        with torch.no_grad():
            module.weight[module.padding_idx].zero_()
