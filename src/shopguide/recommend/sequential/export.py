"""The serving form of a trained network: its weights as numpy arrays and a numpy forward pass.

A saved model therefore loads and answers without torch (smaller workers, no thread-pool or kernel
warm-up surprises on the request path), and one shopper's encoding is a dozen small matrix products.
``tests/recommend/test_sequential.py`` checks that it matches the torch network.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import erf

if TYPE_CHECKING:
    from shopguide.recommend.sequential.config import SequentialConfig

_EPS = 1e-5  # torch.nn.LayerNorm's default


def _np(t) -> np.ndarray:
    return t.detach().cpu().numpy().astype(np.float32, copy=True)


def left_pad_ids(seqs: list[np.ndarray], width: int | None = None) -> np.ndarray:
    """Item indices -> left-padded ids shifted by one (0 = pad), keeping the newest ``width`` items."""
    width = width or max((len(s) for s in seqs), default=1) or 1
    out = np.zeros((len(seqs), width), dtype=np.int64)
    for r, s in enumerate(seqs):
        s = np.asarray(s)[-width:]
        if len(s):
            out[r, width - len(s) :] = s + 1
    return out


def filter_kernel(cfg: SequentialConfig) -> np.ndarray:
    """Causal low-pass kernel of the BSARec-style filter, ``kernel[d]`` weighting the item ``d`` steps back.

    ``cfg.filter_frequencies`` = k > 0: the row of the newest slot in the projection of a ``max_len`` window
    onto its k lowest Fourier frequencies, ``(1 + 2 * sum_{f<k} cos(2 pi f d / L)) / L``; else a
    moving average over the last ``cfg.filter_window`` items.
    """
    if cfg.filter_frequencies:
        length = cfg.max_len
        d = np.arange(length)[:, None]
        f = np.arange(1, cfg.filter_frequencies)[None, :]
        return ((1.0 + 2.0 * np.cos(2 * np.pi * f * d / length).sum(axis=1)) / length).astype(np.float32)
    return np.full(cfg.filter_window, 1.0 / cfg.filter_window, dtype=np.float32)


def causal_toeplitz(kernel: np.ndarray, n: int) -> np.ndarray:
    """``(n, n)`` matrix ``M[t, s] = kernel[t - s]`` for ``0 <= t - s < len(kernel)``, else 0: ``M @ x`` filters."""
    lag = np.arange(n)[:, None] - np.arange(n)[None, :]
    inside = (lag >= 0) & (lag < len(kernel))
    return np.where(inside, kernel[np.clip(lag, 0, len(kernel) - 1)], 0.0).astype(np.float32)


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + _EPS) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))


@dataclass
class BlockWeights:
    norm1: tuple[np.ndarray, np.ndarray]
    qkv: tuple[np.ndarray, np.ndarray]
    out: tuple[np.ndarray, np.ndarray]
    norm2: tuple[np.ndarray, np.ndarray]
    ffn1: tuple[np.ndarray, np.ndarray]
    ffn2: tuple[np.ndarray, np.ndarray]
    mix: float
    toeplitz: np.ndarray | None  # (max_len, max_len) causal filter matrix
    beta: np.ndarray | None


@dataclass
class NumpyEncoder:
    """Eval-mode forward pass of :class:`~shopguide.recommend.sequential.network.SequenceNetwork`."""

    heads: int
    max_len: int
    positions: np.ndarray
    input_norm: tuple[np.ndarray, np.ndarray]
    blocks: list[BlockWeights]
    final_norm: tuple[np.ndarray, np.ndarray] | None  # None: post-norm blocks (each ends in a norm)
    post_norm: bool = False

    @classmethod
    def from_network(cls, net) -> NumpyEncoder:
        def pair(module) -> tuple[np.ndarray, np.ndarray]:
            return _np(module.weight), _np(module.bias)

        blocks = [
            BlockWeights(
                norm1=pair(b.norm1),
                qkv=pair(b.qkv),
                out=pair(b.out),
                norm2=pair(b.norm2),
                ffn1=pair(b.ffn[0]),
                ffn2=pair(b.ffn[3]),
                mix=float(b.mix) if b.filter is not None else 0.0,
                toeplitz=_np(b.filter.toeplitz) if b.filter is not None else None,
                beta=_np(b.filter.beta) if b.filter is not None else None,
            )
            for b in net.blocks
        ]
        return cls(
            heads=net.blocks[0].heads,
            max_len=net.max_len,
            positions=_np(net.positions.weight),
            input_norm=pair(net.input_norm),
            blocks=blocks,
            final_norm=pair(net.final_norm) if hasattr(net.final_norm, "weight") else None,
            post_norm=net.blocks[0].post_norm,
        )

    def __call__(self, sequences: list[np.ndarray], table: np.ndarray) -> np.ndarray:
        """Hidden state after each sequence's last item, ``(len(sequences), dim)``.

        ``sequences`` hold item indices (oldest first); ``table`` is the ``(n_items + 1, dim)`` item table
        with the pad in row 0.
        """
        width = max(1, min(self.max_len, max(len(s) for s in sequences)))
        ids = left_pad_ids(sequences, width)
        valid = ids > 0
        start = width - valid.sum(axis=1, keepdims=True)
        pos = np.clip(np.arange(width)[None, :] - start, 0, self.max_len - 1)
        x = _layer_norm(table[ids] + self.positions[pos], *self.input_norm)
        allowed = (np.tril(np.ones((width, width), dtype=bool))[None] & valid[:, None, :]) | np.eye(width, dtype=bool)
        bias = np.where(allowed, 0.0, -np.inf).astype(np.float32)[:, None]  # (B, 1, L, L)
        for k, block in enumerate(self.blocks):
            x = self._block(x, bias, valid, block, last_only=k == len(self.blocks) - 1)
        x = x[:, -1] if self.final_norm is None else _layer_norm(x[:, -1], *self.final_norm)
        return x.astype(np.float32)

    def _block(
        self, x: np.ndarray, bias: np.ndarray, valid: np.ndarray, w: BlockWeights, *, last_only: bool
    ) -> np.ndarray:
        """One block; with ``last_only`` only the last position's output is computed (all the caller reads)."""
        b, n, d = x.shape
        h = x if self.post_norm else _layer_norm(x, *w.norm1)
        qkv = (h @ w.qkv[0].T + w.qkv[1]).reshape(b, n, 3, self.heads, d // self.heads).transpose(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        if last_only:
            q, bias = q[:, :, -1:], bias[:, :, -1:]
        logits = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d // self.heads) + bias
        logits -= logits.max(axis=-1, keepdims=True)
        weights = np.exp(logits)
        weights /= weights.sum(axis=-1, keepdims=True)
        att = (weights @ v).transpose(0, 2, 1, 3).reshape(b, -1, d)
        mixed = att @ w.out[0].T + w.out[1]
        if w.beta is not None:
            h = h * valid[..., None]
            low = w.toeplitz[-1:, -n:] @ h if last_only else w.toeplitz[-n:, -n:] @ h
            h = h[:, -1:] if last_only else h
            filtered = low + w.beta * (h - low)
            mixed = (1.0 - w.mix) * mixed + w.mix * filtered
        x = (x[:, -1:] if last_only else x) + mixed
        if self.post_norm:
            x = _layer_norm(x, *w.norm1)
            return _layer_norm(x + _gelu(x @ w.ffn1[0].T + w.ffn1[1]) @ w.ffn2[0].T + w.ffn2[1], *w.norm2)
        f = _gelu(_layer_norm(x, *w.norm2) @ w.ffn1[0].T + w.ffn1[1]) @ w.ffn2[0].T + w.ffn2[1]
        return x + f
