"""The learning loop's tables of :class:`~shopguide.store.sql.SqlStore`: policies, decisions and experiments.

A mixin (one concept per module) on the store's ``_read`` / ``_write`` transactions.

* **Policies** (``bandit_policies``): one row per decision point with its config, its learned state and a
  version. Every write goes through :meth:`BanditTables.save_policy`, a compare-and-set on the version: all
  workers (and replicas on PostgreSQL) share one state, and a writer that read an older version learns that it
  lost the race instead of overwriting another worker's updates.
* **Decisions** (``bandit_decisions``): every served decision, appended (a repeated id is ignored). Closing
  decisions happens in the same transaction as the policy write that learned from them, and only if every one
  of them was still open, so a decision's reward is applied exactly once however many workers learn.
* **Experiments** (``experiments``): the A/B experiments' specs as JSON, last write wins.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row

from shopguide.bandit.decisions import Closing, DecisionRecord, PolicyRow, dumps
from shopguide.errors import NotFoundError, StoreRefusedError
from shopguide.store.migrations import define_tables

_TABLES = define_tables(sa.MetaData())
POLICIES, DECISIONS, EXPERIMENTS = (_TABLES[n] for n in ("bandit_policies", "bandit_decisions", "experiments"))
_IN_CHUNK = 500


def _row_policy(row: Row) -> PolicyRow:
    m = row._mapping
    return PolicyRow(
        name=m["name"],
        version=int(m["version"]),
        enabled=bool(m["enabled"]),
        config=json.loads(m["config"]),
        state=json.loads(m["state"]) if m["state"] is not None else None,
        updated_at=float(m["updated_at"]),
    )


def _decision_row(d: DecisionRecord) -> dict[str, Any]:
    return {
        "id": d.id, "point": d.point, "ts": d.ts, "user_id": d.user_id, "session_id": d.session_id, "arm": d.arm,
        "propensity": d.propensity, "policy": d.policy, "policy_version": d.policy_version,
        "experiment": d.experiment, "variant": d.variant, "context": dumps(dict(d.context)),
        "items": dumps(list(d.items)), "reward": d.reward,
        "outcome": dumps(dict(d.outcome)) if d.outcome is not None else None, "closed_at": d.closed_at,
    }  # fmt: skip


def _row_decision(row: Row) -> DecisionRecord:
    m = row._mapping
    return DecisionRecord(
        id=m["id"], point=m["point"], ts=float(m["ts"]), arm=m["arm"], propensity=float(m["propensity"]),
        policy=m["policy"], policy_version=int(m["policy_version"]), context=json.loads(m["context"]),
        items=tuple(json.loads(m["items"])), user_id=m["user_id"], session_id=m["session_id"],
        experiment=m["experiment"], variant=m["variant"], reward=m["reward"],
        outcome=json.loads(m["outcome"]) if m["outcome"] is not None else None, closed_at=m["closed_at"],
    )  # fmt: skip


class _Lost(Exception):
    """Another writer changed the row first: the transaction is rolled back."""


class BanditTables:
    """Policies (compare-and-set), decisions (append, close once) and experiments of a SQL store."""

    _read: Any  # provided by SqlStore
    _write: Any
    _insert: Any
    _batch_size: int

    # ---------------------------------------------------------------- policies
    def policy(self, name: str) -> PolicyRow | None:
        """The stored decision point ``name``, or None."""
        with self._read() as conn:
            row = conn.execute(sa.select(POLICIES).where(POLICIES.c.name == name)).first()
        return _row_policy(row) if row is not None else None

    def policies(self) -> list[PolicyRow]:
        """Every stored decision point, by name."""
        with self._read() as conn:
            rows = conn.execute(sa.select(POLICIES).order_by(POLICIES.c.name)).all()
        return [_row_policy(r) for r in rows]

    def learning_generation(self) -> tuple[tuple[str, int], ...]:
        """A cheap fingerprint of the policies' versions and the experiments' update times: workers compare it
        with the one they hold to know when to reload (one small read)."""
        with self._read() as conn:
            versions = conn.execute(sa.select(POLICIES.c.name, POLICIES.c.version)).all()
            exps = conn.execute(sa.select(EXPERIMENTS.c.name, EXPERIMENTS.c.updated_at)).all()
        return tuple(sorted((n, int(v)) for n, v in versions)) + tuple(
            sorted((f"experiment:{n}", int(ts * 1e6)) for n, ts in exps)
        )

    def save_policy(
        self,
        name: str,
        *,
        expected_version: int | None,
        config: Mapping[str, Any] | None = None,
        state: Mapping[str, Any] | None = None,
        enabled: bool | None = None,
        keep_state: bool = False,
        closing: Sequence[Closing] = (),
    ) -> int | None:
        """Write a decision point if its stored version is still ``expected_version`` (None: it must not exist
        yet) and close ``closing`` decisions in the same transaction, all of which must still be open.

        ``config`` / ``enabled`` None keep the stored values; ``state`` None resets the learned state unless
        ``keep_state``. Returns the new version, or None when another writer got there first (nothing written).
        """
        try:
            return self._save_policy(name, expected_version, config, state, enabled, keep_state, closing)
        except _Lost:
            return None
        except StoreRefusedError:
            if expected_version is None:  # another writer inserted the row first (a unique-key violation)
                return None
            raise

    def _save_policy(
        self,
        name: str,
        expected_version: int | None,
        config: Mapping[str, Any] | None,
        state: Mapping[str, Any] | None,
        enabled: bool | None,
        keep_state: bool,
        closing: Sequence[Closing],
    ) -> int:
        now = time.time()
        with self._write() as conn:
            current = conn.execute(sa.select(POLICIES).where(POLICIES.c.name == name)).first()
            if (current is None) != (expected_version is None) or (
                current is not None and int(current._mapping["version"]) != expected_version
            ):
                raise _Lost
            if closing and not self._close(conn, closing, now):
                raise _Lost
            if current is None:
                if config is None:
                    raise NotFoundError(f"no decision point {name!r} is stored; give its config")
                conn.execute(
                    sa.insert(POLICIES).values(
                        name=name, version=1, enabled=bool(enabled), config=dumps(dict(config)),
                        state=dumps(dict(state)) if state is not None else None, updated_at=now,
                    )
                )  # fmt: skip
                return 1
            values: dict[str, Any] = {"version": int(current._mapping["version"]) + 1, "updated_at": now}
            if config is not None:
                values["config"] = dumps(dict(config))
            if enabled is not None:
                values["enabled"] = bool(enabled)
            if state is not None or not keep_state:
                values["state"] = dumps(dict(state)) if state is not None else None
            updated = conn.execute(
                sa.update(POLICIES)
                .where(POLICIES.c.name == name, POLICIES.c.version == expected_version)
                .values(**values)
            )
            if updated.rowcount != 1:
                raise _Lost
            return int(values["version"])

    def _close(self, conn: Any, closing: Sequence[Closing], now: float) -> bool:
        for item in closing:
            done = conn.execute(
                sa.update(DECISIONS)
                .where(DECISIONS.c.id == item.decision_id, DECISIONS.c.closed_at.is_(None))
                .values(reward=float(item.reward), outcome=dumps(dict(item.outcome)), closed_at=now)
            )
            if done.rowcount != 1:
                return False
        return True

    def close_decisions(self, closing: Sequence[Closing]) -> int:
        """Close decisions without a policy write (e.g. an experiment's fixed arm); already closed ones are
        skipped. Returns how many were closed."""
        now = time.time()
        closed = 0
        with self._write() as conn:
            for item in closing:
                closed += conn.execute(
                    sa.update(DECISIONS)
                    .where(DECISIONS.c.id == item.decision_id, DECISIONS.c.closed_at.is_(None))
                    .values(reward=float(item.reward), outcome=dumps(dict(item.outcome)), closed_at=now)
                ).rowcount
        return closed

    # ---------------------------------------------------------------- decisions
    def add_decisions(self, decisions: Iterable[DecisionRecord]) -> int:
        """Append decisions; an id already stored is skipped. Returns how many were new."""
        rows = [_decision_row(d) for d in decisions]
        if not rows:
            return 0
        stmt = self._insert(DECISIONS).on_conflict_do_nothing(index_elements=[DECISIONS.c.id])
        added = 0
        with self._write() as conn:
            for start in range(0, len(rows), self._batch_size):
                batch = list({r["id"]: r for r in rows[start : start + self._batch_size]}.values())
                added += len(conn.execute(stmt.returning(DECISIONS.c.id), batch).all())
        return added

    def open_decisions(self, before_ts: float, *, limit: int = 5000) -> list[DecisionRecord]:
        """Open decisions made before ``before_ts``, oldest first (at most ``limit``)."""
        query = (
            sa.select(DECISIONS)
            .where(DECISIONS.c.closed_at.is_(None), DECISIONS.c.ts < before_ts)
            .order_by(DECISIONS.c.ts, DECISIONS.c.id)
            .limit(limit)
        )
        with self._read() as conn:
            return [_row_decision(r) for r in conn.execute(query).all()]

    def decisions(
        self,
        point: str | None = None,
        *,
        since_ts: float | None = None,
        closed: bool | None = None,
        experiment: str | None = None,
        user_id: str | None = None,
        limit: int | None = None,
    ) -> list[DecisionRecord]:
        """Decisions (of ``point``, made at or after ``since_ts``, closed or open or both, in ``experiment``, of
        ``user_id``), oldest first; with ``limit`` the newest ``limit`` of them."""
        query = sa.select(DECISIONS)
        if user_id is not None:
            query = query.where(DECISIONS.c.user_id == user_id)
        if point is not None:
            query = query.where(DECISIONS.c.point == point)
        if since_ts is not None:
            query = query.where(DECISIONS.c.ts >= since_ts)
        if closed is not None:
            query = query.where(DECISIONS.c.closed_at.isnot(None) if closed else DECISIONS.c.closed_at.is_(None))
        if experiment is not None:
            query = query.where(DECISIONS.c.experiment == experiment)
        if limit is not None:
            query = query.order_by(DECISIONS.c.ts.desc(), DECISIONS.c.id.desc()).limit(limit)
        else:
            query = query.order_by(DECISIONS.c.ts, DECISIONS.c.id)
        with self._read() as conn:
            rows = [_row_decision(r) for r in conn.execute(query).all()]
        return rows[::-1] if limit is not None else rows

    def decision_counts(self) -> dict[str, dict[str, int]]:
        """Per decision point: ``open`` and ``closed`` decision counts."""
        open_ = sa.func.sum(sa.case((DECISIONS.c.closed_at.is_(None), 1), else_=0))
        query = sa.select(DECISIONS.c.point, sa.func.count(), open_).group_by(DECISIONS.c.point)
        with self._read() as conn:
            rows = conn.execute(query).all()
        return {p: {"open": int(o or 0), "closed": int(n) - int(o or 0)} for p, n, o in rows}

    # ---------------------------------------------------------------- experiments
    def put_experiment(self, name: str, point: str, spec: Mapping[str, Any]) -> None:
        """Store (insert or replace) an experiment's spec."""
        ins = self._insert(EXPERIMENTS)
        values = {"name": name, "point": point, "spec": dumps(dict(spec)), "updated_at": time.time()}
        stmt = ins.on_conflict_do_update(
            index_elements=[EXPERIMENTS.c.name],
            set_={c: ins.excluded[c] for c in ("point", "spec", "updated_at")},
        )
        with self._write() as conn:
            conn.execute(stmt, [values])

    def experiment_specs(self) -> list[dict[str, Any]]:
        """Every stored experiment spec, by name."""
        with self._read() as conn:
            rows = conn.execute(sa.select(EXPERIMENTS.c.spec).order_by(EXPERIMENTS.c.name)).all()
        return [json.loads(r[0]) for r in rows]

    def delete_experiment(self, name: str) -> None:
        """Remove an experiment (its logged decisions stay); NotFoundError when unknown."""
        with self._write() as conn:
            if conn.execute(sa.delete(EXPERIMENTS).where(EXPERIMENTS.c.name == name)).rowcount == 0:
                raise NotFoundError(f"no experiment {name!r}")
