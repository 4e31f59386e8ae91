"""The serving form of the neural tagger: its weights as numpy arrays, a numpy forward pass and Viterbi.

A trained :class:`~shopguide.guide.ner.network.TaggerNetwork` is exported once (:meth:`NumpyNetwork.from_network`)
and saved as a ``.npz``; loading and tagging then need no torch, so the service keeps its small
dependency set and starts fast. An ensemble averages its members' tag scores and CRF transition scores
before one Viterbi pass. ``tests/guide/test_ner_neural.py`` checks that numpy and torch agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from shopguide.guide.ner.encoding import ID_COLUMNS, TABLE_OF, Encoded


def _np(t: Any) -> np.ndarray:
    return t.detach().cpu().numpy().astype(np.float32, copy=True)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # = 1 / (1 + exp(-x)) without overflow warnings


@dataclass
class NumpyNetwork:
    """Eval-mode weights of one network; ``lstm`` holds ``(W_ih, W_hh, b)`` per direction (gates i, f, g, o)."""

    tables: dict[str, np.ndarray]
    lstm: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]
    out: tuple[np.ndarray, np.ndarray]
    transitions: np.ndarray
    start: np.ndarray
    end: np.ndarray

    @classmethod
    def from_network(cls, net: Any) -> NumpyNetwork:
        """Export a :class:`~shopguide.guide.ner.network.TaggerNetwork` (torch) to numpy."""
        lstm = net.lstm

        def direction(suffix: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            w_ih, w_hh = _np(getattr(lstm, f"weight_ih_l0{suffix}")), _np(getattr(lstm, f"weight_hh_l0{suffix}"))
            bias = _np(getattr(lstm, f"bias_ih_l0{suffix}")) + _np(getattr(lstm, f"bias_hh_l0{suffix}"))
            return w_ih, w_hh, bias

        trans, start, end = (_np(t) for t in net.crf_scores())
        return cls(
            tables={name: _np(emb.weight) for name, emb in net.embeddings.items()},
            lstm=(direction(""), direction("_reverse")),
            out=(_np(net.out.weight), _np(net.out.bias)),
            transitions=trans,
            start=start,
            end=end,
        )

    def input_gates(self, x: Encoded) -> np.ndarray:
        """The LSTM input projections ``(2, n, 4H)`` of both directions (the backward one in reversed time)."""
        parts = [self.tables[TABLE_OF[c]][x.ids[:, k]] for k, c in enumerate(ID_COLUMNS)]
        inputs = np.concatenate([*parts, x.dense], axis=1)
        forward = inputs @ self.lstm[0][0].T + self.lstm[0][2]
        backward = inputs[::-1] @ self.lstm[1][0].T + self.lstm[1][2]
        return np.stack([forward, backward])

    def scores(self, hidden: np.ndarray) -> np.ndarray:
        """Tag scores ``(n, K)`` from the two directions' hidden states ``(2, n, H)`` (backward reversed)."""
        h = np.concatenate([hidden[0], hidden[1][::-1]], axis=1)
        return h @ self.out[0].T + self.out[1]

    def emissions(self, x: Encoded) -> np.ndarray:
        """Tag scores ``(n, K)`` of one encoded sentence."""
        w_hh = np.stack([self.lstm[0][1].T, self.lstm[1][1].T])
        return self.scores(run_lstms(self.input_gates(x), w_hh))

    # ---- persistence: flat arrays named "<member>/<field>"

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        out = {f"{prefix}/table/{name}": t for name, t in self.tables.items()}
        for d, (w_ih, w_hh, b) in enumerate(self.lstm):
            out |= {f"{prefix}/lstm{d}/w_ih": w_ih, f"{prefix}/lstm{d}/w_hh": w_hh, f"{prefix}/lstm{d}/b": b}
        out |= {f"{prefix}/out/w": self.out[0], f"{prefix}/out/b": self.out[1]}
        out |= {
            f"{prefix}/crf/trans": self.transitions,
            f"{prefix}/crf/start": self.start,
            f"{prefix}/crf/end": self.end,
        }
        return out

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], prefix: str) -> NumpyNetwork:
        table_prefix = f"{prefix}/table/"
        lstm = tuple(tuple(arrays[f"{prefix}/lstm{d}/{f}"] for f in ("w_ih", "w_hh", "b")) for d in (0, 1))
        return cls(
            tables={k[len(table_prefix) :]: v for k, v in arrays.items() if k.startswith(table_prefix)},
            lstm=lstm,  # type: ignore[arg-type]
            out=(arrays[f"{prefix}/out/w"], arrays[f"{prefix}/out/b"]),
            transitions=arrays[f"{prefix}/crf/trans"],
            start=arrays[f"{prefix}/crf/start"],
            end=arrays[f"{prefix}/crf/end"],
        )


def run_lstms(gates_x: np.ndarray, w_hh_t: np.ndarray) -> np.ndarray:
    """``B`` LSTM directions at once: input projections ``(B, n, 4H)`` (biases added) and transposed
    recurrent weights ``(B, H, 4H)`` (gates i, f, g, o, as torch orders them); hidden states ``(B, n, H)``.

    Running every direction of every ensemble member in one batched product per time step keeps the
    Python loop to ``n`` iterations however many networks there are.
    """
    b, n, four_h = gates_x.shape
    hidden = four_h // 4
    h = np.zeros((b, 1, hidden), dtype=np.float32)
    c = np.zeros((b, hidden), dtype=np.float32)
    out = np.empty((b, n, hidden), dtype=np.float32)
    for t in range(n):
        g = gates_x[:, t] + (h @ w_hh_t)[:, 0]
        i, f = _sigmoid(g[:, :hidden]), _sigmoid(g[:, hidden : 2 * hidden])
        c = f * c + i * np.tanh(g[:, 2 * hidden : 3 * hidden])
        h_t = _sigmoid(g[:, 3 * hidden :]) * np.tanh(c)
        out[:, t] = h_t
        h = h_t[:, None, :]
    return out


def viterbi(emissions: np.ndarray, transitions: np.ndarray, start: np.ndarray, end: np.ndarray) -> list[int]:
    """The highest-scoring tag path of a linear-chain CRF (``emissions`` ``(n, K)``)."""
    n = len(emissions)
    if n == 0:
        return []
    score = start + emissions[0]
    back = np.empty((n, emissions.shape[1]), dtype=np.int64)
    for t in range(1, n):
        cand = score[:, None] + transitions
        back[t] = cand.argmax(axis=0)
        score = cand.max(axis=0) + emissions[t]
    best = [int(np.argmax(score + end))]
    for t in range(n - 1, 0, -1):
        best.append(int(back[t, best[-1]]))
    return best[::-1]


@dataclass
class NumpyEnsemble:
    """Members whose tag scores and CRF scores are averaged before decoding."""

    members: list[NumpyNetwork]

    def __post_init__(self) -> None:
        k = len(self.members)
        self._w_hh = np.stack([d[1].T for m in self.members for d in m.lstm])  # (2k, H, 4H)
        self._crf = tuple(sum(getattr(m, f) for m in self.members) / k for f in ("transitions", "start", "end"))

    def emissions(self, x: Encoded) -> np.ndarray:
        """The members' mean tag scores ``(n, K)``."""
        gates = np.concatenate([m.input_gates(x) for m in self.members])
        hidden = run_lstms(gates, self._w_hh)
        return sum(m.scores(hidden[2 * k : 2 * k + 2]) for k, m in enumerate(self.members)) / len(self.members)

    def decode(self, x: Encoded) -> list[int]:
        """Tag indices of one encoded sentence."""
        if len(x.ids) == 0:
            return []
        return viterbi(self.emissions(x), *self._crf)

    def arrays(self) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for k, member in enumerate(self.members):
            out |= member.arrays(f"m{k}")
        return out

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> NumpyEnsemble:
        prefixes = sorted({key.split("/", 1)[0] for key in arrays}, key=lambda p: int(p[1:]))
        return cls([NumpyNetwork.from_arrays(arrays, p) for p in prefixes])
