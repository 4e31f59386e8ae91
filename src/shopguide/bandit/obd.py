"""Loader for the Open Bandit Dataset (Saito et al. 2020; ZOZOTOWN, CC BY 4.0) in its published CSV layout.

``{root}/{policy}/{campaign}/{campaign}.csv`` has one row per impression: ``timestamp, item_id, position (1-3),
click, propensity_score`` (called ``action_prob`` in the dataset's README; both names are accepted),
``user_feature_0..3`` (hashed strings) and ``user-item_affinity_<item>``; ``item_context.csv`` lists the items.
The files are read from a path given at run time and never copied into this repository.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from shopguide.bandit.ope import LoggedBandit
from shopguide.errors import DataError

__all__ = ["CAMPAIGNS", "POLICIES", "load_open_bandit"]

POLICIES = ("random", "bts")
CAMPAIGNS = ("men", "women", "all")
_PSCORE = ("propensity_score", "action_prob")


def _column(frame: pd.DataFrame, name: str, file: Path) -> np.ndarray:
    if name not in frame.columns:
        raise DataError("missing column", file=str(file), field=name)
    values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise DataError("not a finite number", file=str(file), line=int(bad[0]) + 2, field=name)
    return values


def load_open_bandit(
    root: str | Path, policy: str = "random", campaign: str = "men", *, context: bool = True
) -> LoggedBandit:
    """Logged feedback of one behaviour policy and campaign as a :class:`LoggedBandit`.

    ``action`` is ``item_id``, ``position`` is the 0-based slot (file value minus 1), ``reward`` is ``click`` and
    ``pscore`` the logged propensity. ``n_actions`` is the number of rows of ``item_context.csv``. With
    ``context=True`` the context is the one-hot user features followed by the user-item affinities (floats).
    """
    if policy not in POLICIES or campaign not in CAMPAIGNS:
        raise DataError(f"unknown policy/campaign {policy!r}/{campaign!r}; expected one of {POLICIES} x {CAMPAIGNS}")
    folder = Path(root) / policy / campaign
    file = folder / f"{campaign}.csv"
    items_file = folder / "item_context.csv"
    for path in (file, items_file):
        if not path.is_file():
            raise DataError("file not found", file=str(path))
    frame = pd.read_csv(file, index_col=0)
    n_actions = len(pd.read_csv(items_file, index_col=0))
    pscore_name = next((name for name in _PSCORE if name in frame.columns), _PSCORE[0])
    action = _column(frame, "item_id", file)
    position = _column(frame, "position", file) - 1
    features = None
    if context:
        users = frame.filter(regex=r"^user_feature_").astype(str)
        affinity = frame.filter(regex=r"^user-item_affinity_").to_numpy(dtype=np.float64)
        one_hot = pd.get_dummies(users).to_numpy(dtype=np.float64) if users.shape[1] else np.empty((len(frame), 0))
        features = np.hstack([one_hot, affinity])
    try:
        return LoggedBandit(
            action=action,
            reward=_column(frame, "click", file),
            pscore=_column(frame, pscore_name, file),
            position=position,
            context=features,
            n_actions=n_actions,
        )
    except DataError as err:
        raise err.located(file=str(file)) from None
