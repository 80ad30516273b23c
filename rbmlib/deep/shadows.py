r"""Shadow models and the per-cell membership audit of an unlearning grid (Chapter 8).

``python -m rbmlib unlearn ... --audit ulira|rmia --shadows K`` calls :func:`run_audit` after the
grid's cells are computed. The attacks themselves are the pure functions of
:mod:`rbmlib.deep.audit`; this module makes the models they read.

**Shadows repeat the target's experiment.** The audit's game is fixed by the cell: an original
trained on the training set $D$, a request $(D_r, D_f)$, and the question whether a model was
unlearned from that original or retrained on $D_r$. Shadow $k = 0, \dots, K-1$ plays that game
with its own random streams and nothing else changed:

* its **original** trains on $D$ with the scenario's original recipe (shared by every scenario,
  seed and method: $D$ is the same for all of them);
* its **retrained** model trains from scratch on $D_r$ (the Retrain recipe): out for every
  $x \in D_f$, a draw of the distribution the grid's Retrain comes from;
* its **unlearned** model applies the audited method, with the cell's configuration, to shadow
  $k$'s original and the cell's own request $(D_r, D_f)$: unlearned for every $x \in D_f$.

So for every $x \in D_f$ there are $K$ draws of $\phi(x)$ under each hypothesis, both generated
exactly as the two targets were (Hayes et al., arXiv 2403.01218, Sec. 4: shadow originals, each
unlearned and paired with a retrained model). Earlier versions trained shadows on random halves
of $D$ (LiRA's in/out design, Carlini et al. 2022, Sec. VI-A) and asked each to unlearn
$H_k \cap D_f$. For class-wise forgetting that request is half a class from an original that saw
half a class, and it is not the target's: on ``mnist5k`` ``class:3`` the half-design RBM shadows
kept a mean $\phi$ of about $-10$ on the forgotten class, where the audited RBM sat at $-22$ to
$-29$, next to Retrain; U-LiRA then learned a direction the target does not follow and gave AUCs
below one half (Chapter 8 gives the measurement). A per-example in/out design is needed where
shadows must cover *every* training example; the audit only ever asks about the fixed $D_f$.

**Targets.** The grid's own unlearned model of a cell (positives) and its Retrain (negatives),
scored on every $x \in D_f$; their per-example statistics are stored in the cell files
(:func:`rbmlib.deep.tasks.ensure_cell`). Retrain's own row gets no audit: it is the reference.

* U-LiRA fits, for every $x$, the "unlearned" Gaussian to $\phi(x)$ under the $K$ unlearned
  shadows and the "retrained" Gaussian under the $K$ retrained ones, with one pooled variance for
  both (:func:`rbmlib.deep.audit.pooled_sd`).
* RMIA's reference models are the $K$ retrained shadows (out for every $x \in D_f$, and for the
  test population $Z$), with the marginal $\Pr(x)$ their mean ($a = 1$,
  :class:`AuditConfig`); its cost is those $K$ retrainings per (scenario, seed), which U-LiRA
  shares.

**Artifacts** (content-addressed and verified like every other, :mod:`rbmlib.deep.artifacts`)::

    <out>/shadows/<dataset>/original-k<k>-<key>/                      model.pt, stats.npz
    <out>/shadows/<dataset>/<scenario>/retrain/seed<s>-k<k>-<key>/     stats.npz
    <out>/shadows/<dataset>/<scenario>/<method>/seed<s>-k<k>-<key>/    stats.npz
    <out>/audits/<dataset>/<scenario>/<method>/seed<s>-<audit>-K<K>-<key>.json   scores + summary

``stats.npz`` holds $\phi$ and $p_y$ of every image of the dataset. A shadow original's key covers
the training set's hash, $k$, the model, the original recipe and the compute mode, so it is shared
by every scenario, seed, method and rerun; a shadow retrain's and unlearn's keys add the split and
the method's configuration. Shadow $k$ does not depend on $K$: a run with $K = 8$ reuses the four
shadows of a run with $K = 4$. Shadows run in the driver process, whatever the executor of the
grid.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch
from torch import nn

from rbmlib.deep.artifacts import (
    ArtifactError,
    artifact_lock,
    atomic_write_json,
    commit_artifact,
    config_key,
    verify_artifact,
)
from rbmlib.deep.audit import audit_summary, gaussian_fit, pooled_sd, rmia_scores, ulira_scores
from rbmlib.deep.batches import take
from rbmlib.deep.confidences import model_statistics
from rbmlib.deep.methods import METHODS
from rbmlib.deep.models import build_for_data
from rbmlib.deep.planning import FORMAT, Cell, Plan
from rbmlib.deep.recipes import Recipe
from rbmlib.deep.training import fit

__all__ = [
    "AUDITS",
    "AUDIT_COLUMNS",
    "AuditConfig",
    "ShadowRunError",
    "audit_cell",
    "audit_means",
    "audit_scores",
    "check_audit",
    "merge_audit_columns",
    "run_audit",
]

#: The audits ``--audit`` accepts.
AUDITS: tuple[str, ...] = ("ulira", "rmia")
#: Columns each audit adds to ``results.csv``: AUC, TPR at 1 % and 5 % FPR (fractions), and K.
AUDIT_COLUMNS: dict[str, tuple[str, ...]] = {
    kind: tuple(f"{kind}_{m}" for m in ("auc", "tpr1", "tpr5", "shadows")) for kind in AUDITS
}
#: Version of the shadow code's results; part of every shadow and audit key.
AUDIT_FORMAT = 2  # 2: shadows repeat the target's experiment (no random halves)
#: First entropy word of every shadow stream: keeps them apart from the runs' named streams.
_TAG = 0x5AD0


class ShadowRunError(ValueError):
    """A shadow model could not be made (the method raised, or its confidences are not finite)."""


@dataclass(frozen=True)
class AuditConfig:
    """A membership audit of every unlearned cell of a grid.

    Attributes
    ----------
    kind : {"ulira", "rmia"}
        U-LiRA (Hayes et al. 2024) or offline RMIA (Zarifzadeh et al. 2024).
    shadows : int
        Number $K \\ge 2$ of shadow originals; 4 is the book's choice (Chapter 8 and
        ``benchmarks/bench_audit.py`` show the AUC's spread across seeds against $K$).
    variant : {"online", "offline"}
        U-LiRA's test: two Gaussians (default) or the "retrained" one alone.
    rmia_a : float
        RMIA's offline scaling $a$ (:func:`rbmlib.deep.audit.rmia_scores`). The default 1 takes
        the marginal $\\Pr(x)$ as the mean over the retrained references. RMIA's $a < 1$ models
        the absent *in* references as confident on $x$, true for trained models but not for
        unlearned ones, and floors $\\Pr(x)$ at $(1-a)/2$, which ties every forgotten-class
        example at score 0 (Chapter 8).
    rmia_gamma : float
        RMIA's likelihood-ratio threshold $\\gamma$.
    """

    kind: str
    shadows: int = 4
    variant: Literal["online", "offline"] = "online"
    rmia_a: float = 1.0
    rmia_gamma: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in AUDITS:
            raise ValueError(f"unknown audit {self.kind!r}; expected one of {', '.join(AUDITS)}")
        if isinstance(self.shadows, bool) or not isinstance(self.shadows, int) or self.shadows < 2:
            raise ValueError(
                f"--shadows must be an integer >= 2 (each example's Gaussians need two shadows "
                f"per hypothesis for a variance), got {self.shadows}"
            )
        if self.variant not in ("online", "offline"):
            raise ValueError(f"unknown U-LiRA variant {self.variant!r}; expected 'online' or 'offline'")
        if not 0.0 <= self.rmia_a <= 1.0 or self.rmia_gamma <= 0:
            raise ValueError(f"need 0 <= rmia_a <= 1 and rmia_gamma > 0, got {self.rmia_a}, {self.rmia_gamma}")


def _seed(*words: int) -> int:
    state = np.random.SeedSequence([_TAG, *map(int, words)]).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))


def _generator(*words: int) -> torch.Generator:
    return torch.Generator().manual_seed(_seed(*words))


def _sha(indices: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(indices, dtype="<i8").tobytes()).hexdigest()


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(asdict(obj) if hasattr(obj, "__dataclass_fields__") else obj))


def _train_set(plan: Plan) -> np.ndarray:
    return next(iter(plan.splits.values())).train  # every scenario and seed shares D


def _load_stats(path: Path) -> dict[str, np.ndarray]:
    with np.load(path / "stats.npz") as f:
        return {k: f[k] for k in ("phi", "p")}


def _stats_bytes(stats: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, allow_pickle=False, **stats)
    return buf.getvalue()


def _all_images(plan: Plan, device: torch.device):
    return take(plan.data, np.arange(len(plan.data.y)), device=device)


def _run(
    label: str, make: Callable[[], nn.Module], plan: Plan, recipe: Recipe, device: torch.device, check: np.ndarray
) -> tuple[nn.Module, dict[str, np.ndarray]]:
    """Make a shadow model and its statistics; any failure is a :class:`ShadowRunError`."""
    try:
        model = make()
        stats = model_statistics(model, _all_images(plan, device), batch_size=recipe.eval_batch_size)
    except (RuntimeError, ValueError, FloatingPointError) as err:
        raise ShadowRunError(
            f"shadow run {label} failed ({type(err).__name__}: {err}); the audit needs "
            f"every shadow run of the audited method"
        ) from None
    bad = ~np.isfinite(stats["phi"][check])
    if bad.any():
        raise ShadowRunError(
            f"shadow run {label} gives non-finite confidences on {int(bad.sum())} of "
            f"{len(check)} audited examples (the method diverged); audit another method "
            f"or lower its learning rate"
        )
    return model, stats


def _ensure(
    path: Path,
    kind: str,
    config: dict[str, Any],
    out: Path,
    make: Callable[[], tuple[nn.Module, dict[str, np.ndarray]]],
    *,
    keep_model: bool,
):
    """Load the stored shadow artifact, or make it and commit it (under its lock)."""
    if not verify_artifact(path, kind=kind, config=config):
        with artifact_lock(out, config_key(config)):
            if not verify_artifact(path, kind=kind, config=config):
                model, stats = make()
                state = io.BytesIO()
                if keep_model:
                    torch.save(model.state_dict(), state)

                def write(tmp: Path) -> None:
                    (tmp / "stats.npz").write_bytes(_stats_bytes(stats))
                    if keep_model:
                        (tmp / "model.pt").write_bytes(state.getvalue())

                commit_artifact(path, write, kind=kind, config=config)
    return _load_stats(path)


def _fresh(plan: Plan, recipe: Recipe, generator: torch.Generator, device: torch.device) -> nn.Module:
    return build_for_data(recipe.model, plan.data, generator=generator, device=device)


class _Shadows:
    """The shadow artifacts of one plan's scenario under one output folder (paths, keys, creation).

    The shadows follow the scenario's recipe (model, original training, Retrain) and the cell's
    request; scenarios whose recipes agree share the shadow originals, because the keys, and so
    the paths, are the same.
    """

    def __init__(self, plan: Plan, out: Path, device: torch.device, scenario: str):
        self.plan, self.out, self.device = plan, out, device
        self.recipe = plan.recipe(scenario)
        self.train = _train_set(plan)
        self.root = out / "shadows" / plan.data.name

    def _base(self, kind: str) -> dict[str, Any]:
        p = self.plan
        return {
            "kind": kind,
            "format": FORMAT,
            "audit_format": AUDIT_FORMAT,
            "data_sha256": p.data_sha256,
            "dataset": p.data.name,
            "model": _jsonable(self.recipe.model),
            "compute": p.compute,
        }

    def original_config(self, k: int) -> dict[str, Any]:
        return {
            **self._base("shadow_original"),
            "train_sha256": _sha(self.train),
            "k": k,
            "original": _jsonable(self.recipe.original),
        }

    def original_path(self, k: int) -> Path:
        return self.root / f"original-k{k}-{config_key(self.original_config(k))[:16]}"

    def original_stats(self, k: int) -> dict[str, np.ndarray]:
        def make():
            data = take(self.plan.data, self.train, device=self.device)
            return _run(
                f"original k={k}",
                lambda: fit(
                    _fresh(self.plan, self.recipe, _generator(1, k), self.device),
                    data,
                    cfg=self.recipe.original,
                    generator=_generator(2, k),
                ),
                self.plan,
                self.recipe,
                self.device,
                self.train,
            )

        return _ensure(
            self.original_path(k), "shadow_original", self.original_config(k), self.out, make, keep_model=True
        )

    def original_model(self, k: int) -> nn.Module:
        self.original_stats(k)
        model = _fresh(self.plan, self.recipe, _generator(1, k), self.device)
        path = self.original_path(k)
        model.load_state_dict(torch.load(path / "model.pt", map_location=self.device, weights_only=True), strict=True)
        return model.eval()

    def request(self, scenario: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """The forget and retain sets every shadow of ``(scenario, seed)`` gets: the cell's own
        $(D_f, D_r)$, so that each shadow is a draw of the target's experiment (module docstring)."""
        split = self.plan.splits[(scenario, seed)]
        return split.forget, split.retain

    def _cell_base(self, kind: str, scenario: str, seed: int, k: int) -> dict[str, Any]:
        return {
            **self._base(kind),
            "scenario": scenario,
            "seed": seed,
            "k": k,
            "split_sha256": self.plan.splits[(scenario, seed)].sha256,
        }

    def retrain_stats(self, scenario: str, seed: int, k: int) -> dict[str, np.ndarray]:
        config = {**self._cell_base("shadow_retrain", scenario, seed, k), "retrain": _jsonable(self.recipe.retrain)}
        path = self.root / scenario.replace(":", "-") / "retrain" / f"seed{seed}-k{k}-{config_key(config)[:16]}"
        forget, retain = self.request(scenario, seed)
        cfg = self.recipe.method_config("retrain")

        def make():
            sets = [take(self.plan.data, ix, device=self.device) for ix in (retain, forget)]
            return _run(
                f"retrain k={k} ({scenario}, seed {seed})",
                lambda: METHODS["retrain"](
                    _fresh(self.plan, self.recipe, _generator(3, seed, k), self.device),
                    *sets,
                    cfg=cfg,
                    generator=_generator(4, seed, k),
                ),
                self.plan,
                self.recipe,
                self.device,
                self.plan.splits[(scenario, seed)].forget,
            )

        return _ensure(path, "shadow_retrain", config, self.out, make, keep_model=False)

    def unlearn_stats(self, cell: Cell, k: int) -> dict[str, np.ndarray]:
        """Shadow ``k``'s original unlearned by ``cell``'s method with the cell's request."""
        forget, retain = self.request(cell.scenario, cell.seed)
        config = {
            **self._cell_base("shadow_unlearn", cell.scenario, cell.seed, k),
            "method": cell.method,
            "mask_ratio": cell.mask_ratio,
            "method_config": None if cell.cfg is None else _jsonable(cell.cfg),
            "original_key": config_key(self.original_config(k)),
        }
        path = (
            self.root / cell.scenario.replace(":", "-") / cell.label / f"seed{cell.seed}-k{k}-{config_key(config)[:16]}"
        )

        def make():
            sets = [take(self.plan.data, ix, device=self.device) for ix in (retain, forget)]
            return _run(
                f"{cell.label} k={k} ({cell.scenario}, seed {cell.seed})",
                lambda: METHODS[cell.method](
                    self.original_model(k), *sets, cfg=cell.cfg, generator=_generator(5, cell.seed, k)
                ),
                self.plan,
                self.recipe,
                self.device,
                forget,
            )

        return _ensure(path, "shadow_unlearn", config, self.out, make, keep_model=False)


def check_audit(plan: Plan, audit: AuditConfig) -> None:
    """Refuse an audit the grid cannot support (before anything is written).

    Raises
    ------
    ValueError
        A (scenario, seed) of the grid without Retrain (the audit's negatives), or without any
        other method to audit.
    """
    for scenario, seed in plan.splits:
        if plan.splits[(scenario, seed)].forget_labels is not None:
            raise ValueError(
                f"--audit {audit.kind} does not support {scenario} yet (its shadows would have to "
                f"train on the corrupted labels); audit random:<f> or class:<c> scenarios"
            )
        methods = {c.method for c in plan.cells if (c.scenario, c.seed) == (scenario, seed)}
        if "retrain" not in methods:
            raise ValueError(
                f"--audit {audit.kind} needs retrain in --methods (the attack tells unlearned "
                f"from retrained models); {scenario}, seed {seed} has {', '.join(sorted(methods))}"
            )
        if methods == {"retrain"}:
            raise ValueError(f"--audit {audit.kind} needs a method besides retrain to audit")


def _target(stored: dict[str, Any], path: Path) -> dict[str, np.ndarray]:
    conf = stored.get("confidences")
    if conf is None:
        raise ArtifactError(
            f"stored result {path} has no per-example confidences (written before the "
            f"audit existed); delete that file and rerun to recompute it"
        )
    out = {k: np.array([np.nan if v is None else v for v in vals], dtype=np.float64) for k, vals in conf.items()}
    for k, v in out.items():
        if not np.isfinite(v).all():
            raise ShadowRunError(f"the audited model of {path} has non-finite confidences ({k}); it diverged")
    return out


def _placement(target: dict[str, np.ndarray], shadow_phi: np.ndarray) -> dict[str, Any]:
    """Mean $\\phi$ over $D_f$ of a target and of each of its shadows (does the target sit among them?)."""
    return {"target": float(target["forget_phi"].mean()), "shadows": shadow_phi.mean(axis=1).tolist()}


def audit_cell(plan: Plan, out: Path, cell: Cell, audit: AuditConfig, device: torch.device) -> dict[str, Any]:
    """Audit one unlearned cell against its Retrain; writes (or reads) its audit file.

    Returns
    -------
    dict
        ``{"summary": {"auc", "tpr1", "tpr5"}, "scores_unlearned": [...], "scores_retrained": [...],
        "calibration": ..., "config": ...}``: the per-example scores of $D_f$ under the cell's model
        and under Retrain, and, per hypothesis the attack models ("unlearned", "retrained"), the
        mean $\\phi$ over $D_f$ of the target and of each shadow: a target far outside its
        shadows' spread means the shadows do not model it.
    """
    from rbmlib.deep.tasks import read_cell

    sh = _Shadows(plan, out, device, cell.scenario)
    retrain = next(c for c in plan.cells if (c.scenario, c.seed, c.method) == (cell.scenario, cell.seed, "retrain"))
    stored = {c: read_cell(plan, out, c) for c in (cell, retrain)}
    for c, s in stored.items():
        if s is None:
            raise ArtifactError(
                f"the audit needs the stored result {plan.cell_path(out, c)}, which is missing; rerun the grid first"
            )
    t, r = (_target(stored[c] or {}, plan.cell_path(out, c)) for c in (cell, retrain))
    forget = plan.splits[(cell.scenario, cell.seed)].forget
    ks = range(audit.shadows)
    config = {
        "kind": "audit",
        "audit_format": AUDIT_FORMAT,
        "audit": asdict(audit),
        "cell_key": config_key(plan.cell_config(cell)),
        "retrain_key": config_key(plan.cell_config(retrain)),
        "shadows": [config_key(sh.original_config(k)) for k in ks],
    }
    path = (
        out
        / "audits"
        / plan.data.name
        / cell.scenario.replace(":", "-")
        / cell.label
        / f"seed{cell.seed}-{audit.kind}-K{audit.shadows}-{config_key(config)[:16]}.json"
    )
    if path.exists():
        try:
            saved = json.loads(path.read_text())
            if saved.get("config") == json.loads(json.dumps(config)):
                return saved
        except ValueError:
            pass  # an unreadable audit file is recomputed: it is derived, never a source
    if audit.kind == "ulira":
        phi_in = np.stack([sh.unlearn_stats(cell, k)["phi"][forget] for k in ks])
        phi_out = np.stack([sh.retrain_stats(cell.scenario, cell.seed, k)["phi"][forget] for k in ks])
        mu_in, _ = gaussian_fit(phi_in)
        mu_out, sd_out = gaussian_fit(phi_out)
        if audit.variant == "online":
            sd = np.full(len(forget), pooled_sd((phi_in, None), (phi_out, None)))
            kw: dict[str, Any] = dict(mu_in=mu_in, sd_in=sd, mu_out=mu_out, sd_out=sd, variant="online")
        else:
            kw = dict(mu_out=mu_out, sd_out=sd_out, variant="offline")
        pos, neg = ulira_scores(t["forget_phi"], **kw), ulira_scores(r["forget_phi"], **kw)
        calibration = {"unlearned": _placement(t, phi_in), "retrained": _placement(r, phi_out)}
    else:
        refs = [sh.retrain_stats(cell.scenario, cell.seed, k) for k in ks]
        test = plan.splits[(cell.scenario, cell.seed)].test
        ref_x = np.stack([o["p"][forget] for o in refs])
        ref_z = np.stack([o["p"][test] for o in refs])
        kw_rmia: dict[str, Any] = dict(a=audit.rmia_a, gamma=audit.rmia_gamma)
        pos = rmia_scores(t["forget_p"], ref_x, t["test_p"], ref_z, **kw_rmia)
        neg = rmia_scores(r["forget_p"], ref_x, r["test_p"], ref_z, **kw_rmia)
        calibration = {"retrained": _placement(r, np.stack([o["phi"][forget] for o in refs]))}
    result = {
        "config": config,
        "summary": audit_summary(pos, neg),
        "calibration": calibration,
        "scores_unlearned": pos.tolist(),
        "scores_retrained": neg.tolist(),
    }
    atomic_write_json(path, result)
    return result


def run_audit(
    plan: Plan, out: Path, audit: AuditConfig, *, device: torch.device, log: Callable[[str], None] | None = None
) -> dict[str, dict[str, float]]:
    """Audit every non-Retrain cell of ``plan``; ``config_sha256 -> {column: value}``.

    The columns are :data:`AUDIT_COLUMNS` ``[audit.kind]``. Every stored shadow is reused; the
    missing ones are made in this process.
    """
    check_audit(plan, audit)
    cols = AUDIT_COLUMNS[audit.kind]
    result = {}
    targets = [c for c in plan.cells if c.method != "retrain"]
    for i, cell in enumerate(targets):
        s = audit_cell(plan, out, cell, audit, device)["summary"]
        result[config_key(plan.cell_config(cell))] = dict(
            zip(cols, (s["auc"], s["tpr1"], s["tpr5"], float(audit.shadows)))
        )
        if log is not None:
            log(
                f"audit {i + 1}/{len(targets)} done: {audit.kind} K={audit.shadows} {cell.label} "
                f"{cell.scenario} seed {cell.seed}: AUC {s['auc']:.3f}"
            )
    return result


def merge_audit_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Give every row of a cell (``config_sha256``) the audit values of that cell's best run.

    Rows of one cell written by several runs (one without ``--audit``, one with ``--audit ulira``,
    one with ``--audit rmia``) then agree, so that de-duplicating them keeps every audit column.
    Of two runs of one audit, the one with more shadows wins (a better estimate), ties by run order.
    """
    df = df.copy()
    for cols in AUDIT_COLUMNS.values():
        if cols[0] not in df:
            continue
        k = cols[-1]
        best = (
            df[df[k].notna()].sort_values(k, kind="stable").groupby("config_sha256").tail(1).set_index("config_sha256")
        )
        for c in cols:
            df[c] = df["config_sha256"].map(best[c])
    return df


def audit_means(df: pd.DataFrame, *, digits: int = 3) -> pd.DataFrame:
    """MIA-efficacy beside every audit column present, ``"mean ± SD"`` over seeds (for display).

    One row per (dataset, scenario, method, mask ratio) of ``df`` (a ``results.csv`` table); the
    audit columns hold fractions (AUC, TPR), MIA-efficacy a percentage, as in ``results.csv``.
    """
    cols = [c for cols in AUDIT_COLUMNS.values() for c in cols[:-1] if c in df]
    keys = ["dataset", "scenario", "method", "mask_ratio"]
    groups = df.groupby(keys, dropna=False, sort=False)
    mean, sd = groups[["mia", *cols]].mean(), groups[["mia", *cols]].std(ddof=1).fillna(0.0)
    out = mean.reset_index()[keys]
    for c in ["mia", *cols]:
        d = 1 if c == "mia" else digits
        out[c] = [f"{m:.{d}f} ± {s:.{d}f}" if np.isfinite(m) else "n/a" for m, s in zip(mean[c], sd[c])]
    return out


def audit_scores(cfg: Any, out: str | Path, audit: AuditConfig) -> dict[tuple[str, str, int], dict[str, Any]]:
    """The stored audit of every unlearned cell of a finished, audited grid (per-example scores).

    Parameters
    ----------
    cfg : rbmlib.deep.planning.ExperimentConfig
        The grid that ``run_experiment(cfg, out, audit=audit)`` ran.
    out : str or Path
        Its output folder.
    audit : AuditConfig
        The audit it ran.

    Returns
    -------
    dict
        ``(scenario, method label, seed) -> audit_cell(...)`` result: ``summary``,
        ``scores_unlearned``, ``scores_retrained``. Missing pieces are computed (and stored) first.
    """
    from rbmlib.deep.planning import check_device, make_plan

    plan = make_plan(cfg)
    check_audit(plan, audit)
    device = check_device(plan.cfg.device)
    return {
        (c.scenario, c.label, c.seed): audit_cell(plan, Path(out), c, audit, device)
        for c in plan.cells
        if c.method != "retrain"
    }
