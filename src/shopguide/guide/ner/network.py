"""The torch network of the neural tagger: embeddings + gazetteer flags -> BiLSTM -> tag scores -> CRF.

Only training imports this module (and so torch); serving runs :mod:`shopguide.guide.ner.numpy_net`.
The CRF's transitions between tags that BIO forbids (``O -> I-X``, ``B-X -> I-Y``) are fixed at
:data:`FORBIDDEN`, so the decoder never emits an orphan ``I-`` and the learned scores spend nothing on them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from shopguide.guide.ner.encoding import ID_COLUMNS, TABLE_OF

FORBIDDEN = -1e4


def bio_masks(tags: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(allowed transitions (K, K), allowed first tags (K,))`` of a BIO tag set."""
    k = len(tags)
    allowed = np.ones((k, k), dtype=bool)
    start = np.ones(k, dtype=bool)
    for j, tag in enumerate(tags):
        if tag.startswith("I-"):
            start[j] = False
            for i, prev in enumerate(tags):
                allowed[i, j] = prev[2:] == tag[2:] and prev != "O"
    return allowed, start


class TaggerNetwork(nn.Module):
    """BiLSTM-CRF over the columns of :class:`~shopguide.guide.ner.encoding.FeatureEncoder`."""

    def __init__(
        self,
        sizes: Mapping[str, int],
        dims: Mapping[str, int],
        dense_dim: int,
        tags: Sequence[str],
        *,
        hidden: int = 128,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        self.tags = list(tags)
        self.embeddings = nn.ModuleDict({name: nn.Embedding(sizes[name], dims[name], padding_idx=0) for name in sizes})
        width = sum(dims[TABLE_OF[c]] for c in ID_COLUMNS) + dense_dim
        self.dropout = nn.Dropout(dropout)
        self.lstm = nn.LSTM(width, hidden, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * hidden, len(tags))
        allowed, start = bio_masks(self.tags)
        self.register_buffer("allowed", torch.from_numpy(allowed))
        self.register_buffer("start_allowed", torch.from_numpy(start))
        self.transitions = nn.Parameter(torch.zeros(len(tags), len(tags)))
        self.start = nn.Parameter(torch.zeros(len(tags)))
        self.end = nn.Parameter(torch.zeros(len(tags)))
        for emb in self.embeddings.values():
            nn.init.normal_(emb.weight, std=0.1)
            with torch.no_grad():
                emb.weight[0].zero_()

    def crf_scores(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Transition, start and end scores with the forbidden entries fixed."""
        forbidden = torch.tensor(FORBIDDEN)
        trans = torch.where(self.allowed, self.transitions, forbidden)
        start = torch.where(self.start_allowed, self.start, forbidden)
        return trans, start, self.end

    def emissions(self, ids: torch.Tensor, dense: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Tag scores ``(B, T, K)`` of padded inputs ``ids (B, T, C)``, ``dense (B, T, D)``."""
        parts = [self.embeddings[TABLE_OF[c]](ids[..., k]) for k, c in enumerate(ID_COLUMNS)]
        x = self.dropout(torch.cat([*parts, dense], dim=-1))
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        h, _ = self.lstm(packed)
        h, _ = pad_packed_sequence(h, batch_first=True, total_length=ids.shape[1])
        return self.out(self.dropout(h))

    def loss(self, ids: torch.Tensor, dense: torch.Tensor, lengths: torch.Tensor, tags: torch.Tensor) -> torch.Tensor:
        """Mean CRF negative log-likelihood of the gold tags (padding tags are ignored)."""
        em = self.emissions(ids, dense, lengths)
        trans, start, end = self.crf_scores()
        b, t, _ = em.shape
        mask = torch.arange(t)[None, :] < lengths[:, None]
        rows = torch.arange(b)
        gold = start[tags[:, 0]] + em[rows, 0, tags[:, 0]]
        alpha = start[None, :] + em[:, 0]
        for i in range(1, t):
            m = mask[:, i]
            step = trans[tags[:, i - 1], tags[:, i]] + em[rows, i, tags[:, i]]
            gold = gold + torch.where(m, step, torch.zeros_like(step))
            nxt = torch.logsumexp(alpha[:, :, None] + trans[None] + em[:, i, None, :], dim=1)
            alpha = torch.where(m[:, None], nxt, alpha)
        last = tags[rows, lengths - 1]
        gold = gold + end[last]
        log_z = torch.logsumexp(alpha + end[None, :], dim=1)
        return (log_z - gold).mean()

    @torch.no_grad()
    def decode(self, ids: torch.Tensor, dense: torch.Tensor) -> list[int]:
        """Viterbi tags of one unpadded sentence (``ids (T, C)``, ``dense (T, D)``), for checking the numpy path."""
        em = self.emissions(ids[None], dense[None], torch.tensor([len(ids)]))[0]
        trans, start, end = self.crf_scores()
        score, back = start + em[0], []
        for i in range(1, len(em)):
            cand = score[:, None] + trans
            best, arg = cand.max(dim=0)
            back.append(arg)
            score = best + em[i]
        path = [int(torch.argmax(score + end))]
        for arg in reversed(back):
            path.append(int(arg[path[-1]]))
        return path[::-1]
