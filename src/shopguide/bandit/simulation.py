"""Ground-truth bandit environments built from the demo shopper simulator (issue 16's regret study).

**World** (:func:`build_world`). The demo catalog, shoppers simulated on it by
:func:`~shopguide.data.demo.simulate_detailed`, and the recommenders the feed strategies use, fitted on the
simulated events of the *returning* shoppers; the last ``new_share`` of the shoppers are *new*: their events
are dropped from the training data, so no model has seen them.

**States.** A state is one request: a shopper (returning with probability ``returning_share``), the category
the simulator's own ``_Shopper.focus`` picks for this session (hidden), a prefix of the session the simulator
generates for that focus (its events are "the session so far"; empty with probability ``start_share``), an hour
from the simulator's activity curve and a device (the shopper's usual one 85% of the time, as the simulator
logs it; its ``web`` is split evenly into ``mobile`` and ``desktop``). A policy sees only the
:class:`~shopguide.bandit.features.DecisionContext` (focus = :func:`focus_of` the prefix's top categories),
encoded by :func:`~shopguide.bandit.features.encode`, exactly as the service will.

**Reward** (the simulator's own choice model, never a per-arm constant). Each arm shows a slate of items. In a
session focused on ``f`` the simulator views items by a softmax over
``base + FOCUS_BONUS * [top == f]`` (+ ``SAME_TYPE_BONUS`` for the product type just viewed, on the next view
only) among the items not yet seen this session, or, with probability ``RANDOM_VIEW_RATE``, uniformly; a view
is clicked with probability ``CLICK_RATE * boost * (1.15 - 0.6 * price_misfit)`` (boost 1.05 for taste views,
0.5 for random ones). For a slate ``S`` the per-view probability of viewing *and* clicking item ``i`` is
``q_i``; over the ``R`` views the shopper has left (``R`` distributed like the simulator's session length,
``min(15, 1 + Poisson(3.5))``, views treated as independent draws) the expected reward is
``P(click >= 1 item of S) = 1 - prod(1 - q1_i) * E[prod(1 - q_i) ** (R - 1)]``, in [0, 1]; it agrees with the
share of the simulator's own sessions that click a slate item to within a few points (see the tests).

**Arms** (:data:`FEED_ARMS`, each a slate of ``slate_size`` in-stock items the shopper has not interacted with):

* ``model``: the service's default fallback chain (hybrid item-CF + content -> item-CF on recent items ->
  category popular -> popular) with the session so far as recent history;
* ``context_mix``: up to half the slate from the context layer (:class:`ContextIndex` for the local hour, on the
  demo's reference date), the rest global bestsellers;
* ``category_popular``: bestsellers of the focus category when one is known, else :class:`CategoryPopularity`
  over the shopper's history (global bestsellers when there is none);
* ``popular``: global bestsellers (7-day half-life).

**Structure**, as it arises from the simulator. The session focus adds ``FOCUS_BONUS`` = 4.5 to a whole top
category and the next view gets ``SAME_TYPE_BONUS`` for the product type just viewed. A *new* shopper's only
history is the session itself, so mid-session the ``model``'s item-CF slate sits in the focus category and the
types just viewed: ``model`` is best. A *returning* shopper's long history spans all their favourite categories
and drowns the session, so once a focus is visible the focus category's bestsellers (``category_popular``) are
best, while at session start (no focus yet) the ``model``'s match to the rest of ``base`` (favourite
categories, style, colour, price tier) is. At a new shopper's session start every arm but ``context_mix``
shows near-identical bestsellers (near-ties). The simulator has no time-of-day or device taste, so hour and
device carry no signal for the feed and ``context_mix`` is rarely best. Within each group the best arm still
varies with the hidden taste, which no policy sees. The best arm thus flips with returning x focus, an
interaction additive per-arm linear models cannot hold on their own: :func:`encode` carries it as a feature.

**Ask or show** (:func:`guide_environment`): a shopper sends a vague request (no focus known). ``ask`` costs a
turn: the shopper leaves with the hidden probability :data:`LEAVE_AFTER_ASK` of their device (mobile shoppers
are least patient), else names their focus category and is shown the ``model`` slate within it; ``show``
shows the ``model`` slate at once. Reward: a click on a shown item, by the same choice model. Asking pays where
the focus slate's gain outweighs the leave rate: new shoppers (whose ``show`` slate is bestsellers) and patient
devices; returning mobile shoppers are better shown their personal list.

Seeded throughout (numpy Generators): :func:`build_world`'s ``seed`` fixes the market, an environment's ``seed``
its states (the first ``n`` states of a seed are the same for any larger ``n_states``), :meth:`Environment.rounds`
the rounds and reward draws, shared by every policy played with that seed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import numpy as np

from shopguide.bandit.features import DecisionContext, encode, focus_of
from shopguide.bandit.policies import BanditPolicy
from shopguide.data.dataset import Dataset
from shopguide.data.demo import REFERENCE_TIME, build_catalog, simulate_detailed
from shopguide.data.demo.simulator import (
    _HOURS,
    CLICK_RATE,
    FOCUS_BONUS,
    RANDOM_VIEW_RATE,
    SAME_TYPE_BONUS,
    _Catalog,
    _Shopper,
)
from shopguide.data.schema import EventType, Item
from shopguide.errors import ConfigError
from shopguide.recommend.base import Recommendation, Recommender
from shopguide.recommend.context import Context, ContextIndex
from shopguide.recommend.popularity import CategoryPopularity, Popularity
from shopguide.recommend.registry import build_model

#: the feed strategies, in the order of :data:`shopguide.bandit.decisions.FEED_ARMS`
FEED_ARMS = ("model", "context_mix", "category_popular", "popular")
#: the guide's moves on a vague request
GUIDE_MOVES = ("ask", "show")
#: hidden probability that a shopper leaves when the guide asks a clarifying question, by device
LEAVE_AFTER_ASK: dict[str, float] = {"mobile": 0.50, "app": 0.25, "desktop": 0.10}
_TASTE_BOOST, _RANDOM_BOOST = 1.05, 0.5  # the simulator's click boosts for taste and random views
_VIEWS_MEAN, _VIEWS_MAX = 3.5, 15  # the simulator's session length: min(15, 1 + Poisson(3.5)) views
_LOCAL = timezone(timedelta(hours=8))


@dataclass
class World:
    """The simulated market: catalog arrays, shoppers, who is new, and the fitted strategy recommenders."""

    items: list[Item]
    catalog: _Catalog
    shoppers: list[_Shopper]
    returning: np.ndarray  # bool per shopper: their events are in the training data
    dataset: Dataset
    model: Recommender
    popular: Popularity
    category_popular: CategoryPopularity
    context_index: ContextIndex


def build_world(
    *, seed: int = 0, n_shoppers: int = 800, days: int = 60, new_share: float = 0.25, catalog_seed: int = 7
) -> World:
    """Simulate ``n_shoppers`` for ``days`` (simulator seed ``seed``) and fit the strategies on the returning ones."""
    if not 0.0 < new_share < 1.0:
        raise ConfigError(f"new_share must be in (0, 1), got {new_share}")
    items = build_catalog(catalog_seed)
    sim = simulate_detailed(items, n_users=n_shoppers, days=days, seed=seed)
    # simulate_detailed draws the catalog's latent popularity first from default_rng(seed): the same arrays
    catalog = _Catalog(items, np.random.default_rng(seed))
    rng = np.random.default_rng([seed, 1])
    shoppers = [_Shopper(catalog, taste, rng) for taste in sim.tastes]
    n_new = max(1, round(new_share * n_shoppers))
    returning = np.arange(n_shoppers) < n_shoppers - n_new
    known = {t.user for t, r in zip(sim.tastes, returning, strict=True) if r}
    dataset = Dataset.from_events(
        [e for e in sim.events if e.user in known],
        items,
        [u for u in sim.users if u.id in known],
        name=f"demo-sim-{seed}",
    )
    return World(
        items=items,
        catalog=catalog,
        shoppers=shoppers,
        returning=returning,
        dataset=dataset,
        model=build_model("fallback").fit(dataset),
        popular=Popularity().fit(dataset),
        category_popular=CategoryPopularity().fit(dataset),
        context_index=ContextIndex(dataset),
    )


@dataclass(frozen=True)
class _State:
    shopper: int
    focus: int  # the hidden session focus (top-category index)
    history: tuple[tuple[str, str], ...]  # the session so far: (item id, event type), oldest first
    seen: tuple[int, ...]  # catalog indices viewed this session
    last_type: int  # product type of the last view, -1 at session start
    context: DecisionContext


@dataclass(frozen=True)
class Environment:
    """A finite set of states with the true expected reward of every arm; rounds draw states uniformly."""

    arms: tuple[str, ...]
    contexts: tuple[DecisionContext, ...]
    features: np.ndarray  # (n_states, N_FEATURES), encode(context)
    expected: np.ndarray  # (n_states, n_arms), in [0, 1]
    groups: tuple[str, ...]  # a readable context group per state, for reports
    # hidden from policies, kept for tests and analyses: the shopper, their session focus (top-category index)
    # and each arm's slate (catalog indices, -1 = empty)
    shoppers: np.ndarray
    focus: np.ndarray
    slates: np.ndarray

    @property
    def n_states(self) -> int:
        return len(self.contexts)

    @property
    def best(self) -> np.ndarray:
        """The per-state oracle's expected reward."""
        return self.expected.max(axis=1)

    def optimal(self) -> np.ndarray:
        """``(n_states, n_arms)`` bool: the arms whose expected reward equals the best one (ties are all optimal)."""
        return self.expected >= self.best[:, None] - 1e-12

    def rounds(self, n_rounds: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """The state of each round and a uniform per round for its Bernoulli reward (shared by all policies)."""
        rng = np.random.default_rng([seed, 2])
        return rng.integers(self.n_states, size=n_rounds), rng.random(n_rounds)


@dataclass(frozen=True)
class Run:
    """One policy's play: the state and arm of each round, and the realised reward."""

    states: np.ndarray
    arms: np.ndarray
    rewards: np.ndarray

    def regret(self, env: Environment) -> np.ndarray:
        """Cumulative pseudo-regret against the per-state oracle after each round."""
        return np.cumsum(env.best[self.states] - env.expected[self.states, self.arms])


def _draw_states(
    world: World, rng: np.random.Generator, n_states: int, returning_share: float, start_share: float
) -> list[_State]:
    """Draw shopper, hidden focus, session prefix, hour and device by the simulator's own rules."""
    cat = world.catalog
    for shopper in world.shoppers:
        shopper.rng = rng  # the simulator's focus and session draws, from this environment's stream
    pools = [np.flatnonzero(~world.returning), np.flatnonzero(world.returning)]
    hour_p = _HOURS / _HOURS.sum()
    states = []
    for _ in range(n_states):
        returning = bool(rng.random() < returning_share)
        u = int(rng.choice(pools[returning]))
        shopper = world.shoppers[u]
        focus = shopper.focus()
        raw = shopper.session(0.0, focus, None)
        m = 0 if rng.random() < start_share else int(rng.integers(1, len(raw) + 1))
        prefix = raw[:m]
        views = [i for _, i, etype, _ in prefix if etype is EventType.VIEW]
        tops = [cat.tops[cat.top[i]] for _, i, _, _ in reversed(prefix)]
        device = shopper.taste.device if rng.random() < 0.85 else {"app": "web", "web": "app"}[shopper.taste.device]
        if device == "web":
            device = "mobile" if rng.random() < 0.5 else "desktop"
        ctx = DecisionContext(
            hour=int(rng.choice(24, p=hour_p)),
            device=device,
            returning=returning,
            session_actions=m,
            focus_category=focus_of(tops),
        )
        history = tuple((world.items[i].id, etype.value) for _, i, etype, _ in prefix)
        states.append(_State(u, focus, history, tuple(views), int(cat.type[views[-1]]) if views else -1, ctx))
    return states


def _views_left_pgf(x: np.ndarray) -> np.ndarray:
    """``E[x ** (R - 1)]`` for the simulator's session length ``R = min(15, 1 + Poisson(3.5))``."""
    k = np.arange(_VIEWS_MAX)
    pmf = np.array([math.exp(-_VIEWS_MEAN) * _VIEWS_MEAN**j / math.factorial(j) for j in k])
    pmf[-1] += 1.0 - pmf.sum()  # the cap at 15 views
    return np.power(x[..., None], k) @ pmf


def _click_probability(world: World, states: Sequence[_State], slates: np.ndarray) -> np.ndarray:
    """Expected reward of each slate: ``slates`` is ``(n_states, n_slates, k)`` catalog indices (-1 = empty)."""
    cat = world.catalog
    n_items = len(cat.items)
    base = np.stack([world.shoppers[s.shopper].base for s in states])
    fit = np.stack([world.shoppers[s.shopper].fit for s in states])
    allowed = np.ones((len(states), n_items), dtype=bool)
    for r, s in enumerate(states):
        allowed[r, list(s.seen)] = False
    logits = base + FOCUS_BONUS * (cat.top[None, :] == np.array([s.focus for s in states])[:, None])
    same = cat.type[None, :] == np.array([s.last_type for s in states])[:, None]
    click = CLICK_RATE * (1.15 - 0.6 * fit)
    uniform = allowed / allowed.sum(axis=1, keepdims=True)

    def per_view(z: np.ndarray) -> np.ndarray:
        w = np.exp(z - np.where(allowed, z, -np.inf).max(axis=1, keepdims=True)) * allowed
        soft = w / w.sum(axis=1, keepdims=True)
        return click * ((1 - RANDOM_VIEW_RATE) * soft * _TASTE_BOOST + RANDOM_VIEW_RATE * uniform * _RANDOM_BOOST)

    q_later, q_next = per_view(logits), per_view(logits + SAME_TYPE_BONUS * same)
    rows = np.arange(len(states))[:, None, None]
    safe = np.maximum(slates, 0)
    shown = slates >= 0
    miss_next = np.prod(np.where(shown, 1 - q_next[rows, safe], 1.0), axis=2)
    miss_later = np.prod(np.where(shown, 1 - q_later[rows, safe], 1.0), axis=2)
    return np.clip(1.0 - miss_next * _views_left_pgf(miss_later), 0.0, 1.0)


def _to_index(world: World, rows: Sequence[Sequence[Recommendation]], k: int) -> np.ndarray:
    """Slates as catalog indices, ``(len(rows), k)``, padded with -1."""
    index = {it.id: i for i, it in enumerate(world.items)}
    out = np.full((len(rows), k), -1, dtype=np.int64)
    for r, row in enumerate(rows):
        out[r, : min(len(row), k)] = [index[rec.item] for rec in row[:k]]
    return out


def _user_ids(world: World, states: Sequence[_State]) -> list[str]:
    """Raw ids for the recommenders: new shoppers get an id no model knows."""
    return [world.shoppers[s.shopper].taste.user if world.returning[s.shopper] else f"new-{s.shopper}" for s in states]


def _by_category(
    model: Recommender, world: World, states: Sequence[_State], categories: Sequence[str | None], k: int
) -> np.ndarray:
    """``model``'s slate per state, restricted to that state's category when one is given (batched per category)."""
    users, histories = _user_ids(world, states), [list(s.history) for s in states]
    out = np.full((len(states), k), -1, dtype=np.int64)
    for category in dict.fromkeys(categories):
        rows = [r for r, c in enumerate(categories) if c == category]
        recs = model.recommend_batch(
            [users[r] for r in rows],
            k,
            categories=[category] if category else None,
            histories=[histories[r] for r in rows],
        )
        out[rows] = _to_index(world, recs, k)
    return out


def _context_mix(world: World, states: Sequence[_State], popular: np.ndarray, k: int) -> np.ndarray:
    """Up to ``k // 2`` items that fit the local hour (context layer), then global bestsellers."""
    day = datetime.fromtimestamp(REFERENCE_TIME, _LOCAL)
    out = np.full((len(states), k), -1, dtype=np.int64)
    for r, s in enumerate(states):
        seen = {item for item, _ in s.history}
        ctx = Context(local_time=day.replace(hour=s.context.hour or 0))
        fitting = world.context_index.recommendations(ctx, k // 2, exclude=seen)
        picks = _to_index(world, [fitting], k)[0][: len(fitting)].tolist()
        picks += [i for i in popular[r] if i >= 0 and i not in picks][: k - len(picks)]
        out[r, : len(picks)] = picks
    return out


def _environment(
    arms: tuple[str, ...], states: Sequence[_State], expected: np.ndarray, slates: np.ndarray, groups: list[str]
) -> Environment:
    contexts = tuple(s.context for s in states)
    return Environment(
        arms=arms,
        contexts=contexts,
        features=np.stack([encode(c) for c in contexts]),
        expected=expected,
        groups=tuple(groups),
        shoppers=np.array([s.shopper for s in states]),
        focus=np.array([s.focus for s in states]),
        slates=slates,
    )


def _group(ctx: DecisionContext) -> str:
    """A readable context group: new or returning, and where in the session (start, focus, no focus)."""
    who = "returning" if ctx.returning else "new"
    if ctx.session_actions == 0:
        return f"{who}, session start"
    if not ctx.focus_category:
        return f"{who}, mid-session, no focus"
    return f"{who}, focus, {'1-3' if ctx.session_actions <= 3 else '4+'} actions"


def feed_environment(
    world: World,
    *,
    seed: int = 0,
    n_states: int = 4000,
    slate_size: int = 10,
    returning_share: float = 0.6,
    start_share: float = 0.3,
) -> Environment:
    """The feed decision: :data:`FEED_ARMS` over ``n_states`` simulated requests (see the module docstring)."""
    states = _draw_states(world, np.random.default_rng([seed, 4]), n_states, returning_share, start_share)
    k = slate_size
    no_category: list[str | None] = [None] * len(states)
    popular = _by_category(world.popular, world, states, no_category, 2 * k)
    slates = np.stack(
        [
            _by_category(world.model, world, states, no_category, k),
            _context_mix(world, states, popular, k),
            _by_category(world.category_popular, world, states, no_category, k),
            popular[:, :k],
        ],
        axis=1,
    )
    focused = [r for r, s in enumerate(states) if s.context.focus_category]
    focus_slates = _by_category(
        world.popular, world, [states[r] for r in focused], [states[r].context.focus_category for r in focused], k
    )
    slates[focused, FEED_ARMS.index("category_popular")] = focus_slates
    expected = _click_probability(world, states, slates)
    return _environment(FEED_ARMS, states, expected, slates, [_group(s.context) for s in states])


def guide_environment(
    world: World,
    *,
    seed: int = 0,
    n_states: int = 2000,
    slate_size: int = 6,
    returning_share: float = 0.6,
    leave_after_ask: dict[str, float] | None = None,
) -> Environment:
    """The guide's move on a vague request: :data:`GUIDE_MOVES` (see the module docstring)."""
    leave = leave_after_ask if leave_after_ask is not None else LEAVE_AFTER_ASK
    states = _draw_states(world, np.random.default_rng([seed, 5]), n_states, returning_share, start_share=1.0)
    k = slate_size
    answered = [world.catalog.tops[s.focus] for s in states]
    ask = _by_category(world.model, world, states, answered, k)
    show = _by_category(world.model, world, states, [None] * len(states), k)
    slates = np.stack([ask, show], axis=1)
    clicks = _click_probability(world, states, slates)
    stay = np.array([1.0 - leave[s.context.device or "mobile"] for s in states])
    expected = clicks * np.stack([stay, np.ones_like(stay)], axis=1)
    groups = [f"{s.context.device}/{'returning' if s.context.returning else 'new'}" for s in states]
    return _environment(GUIDE_MOVES, states, expected, slates, groups)


def play(policy: BanditPolicy, env: Environment, n_rounds: int, seed: int, *, contextual: bool = True) -> Run:
    """Run ``policy`` for ``n_rounds`` (states and rewards from :meth:`Environment.rounds` with ``seed``)."""
    states, uniforms = env.rounds(n_rounds, seed)
    rng = np.random.default_rng([seed, 3])
    arms = np.empty(n_rounds, dtype=np.int64)
    rewards = np.empty(n_rounds)
    for t, s in enumerate(states):
        x = env.features[s] if contextual else None
        arm = policy.choose(x, rng).arm
        reward = float(uniforms[t] < env.expected[s, arm])
        policy.update(arm, reward, x)
        arms[t], rewards[t] = arm, reward
    return Run(states=states, arms=arms, rewards=rewards)


def fixed_arm_run(env: Environment, arm: int, n_rounds: int, seed: int) -> Run:
    """Always ``arm`` on the same rounds as :func:`play` with ``seed``."""
    states, uniforms = env.rounds(n_rounds, seed)
    return Run(states, np.full(n_rounds, arm), (uniforms < env.expected[states, arm]).astype(float))
