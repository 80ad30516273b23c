"""Ray and submitit executors give the local executor's results (rbmlib.deep.executors)."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from rbmlib.deep.executors import RayExecutor, SlurmExecutor
from rbmlib.deep.recipes import default_recipe
from rbmlib.deep.runner import ExperimentConfig, run_experiment

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _cfg() -> ExperimentConfig:
    r = default_recipe("digits")
    short = replace(r.ft.sgd, epochs=1)
    recipe = replace(
        r,
        original=replace(r.original, epochs=2, milestones=()),
        retrain=replace(r.retrain, sgd=replace(r.retrain.sgd, epochs=2, milestones=())),
        ft=replace(r.ft, sgd=short),
        rbm=replace(r.rbm, sgd=short),
    )
    return ExperimentConfig(dataset="digits", methods=("retrain", "ft", "rbm"), seeds=(0, 1), recipe=recipe, threads=1)


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.drop(columns="rte_s"), b.drop(columns="rte_s"))


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    return run_experiment(_cfg(), tmp_path_factory.mktemp("local"), progress=False)


def test_ray_executor_on_a_local_two_cpu_cluster_matches_local(tmp_path, local):
    ray_table = run_experiment(_cfg(), tmp_path, progress=False, executor=RayExecutor(workers=2))
    _same(ray_table, local)
    # A rerun finds every cell finished and schedules nothing.
    again = run_experiment(_cfg(), tmp_path, progress=False, executor=RayExecutor(workers=2))
    pd.testing.assert_frame_equal(again, ray_table)


def test_submitit_job_arrays_match_local(tmp_path, local):
    # One seed, two methods: three jobs (an original, then two cells), each a fresh process of
    # submitit's LocalExecutor (its DebugExecutor leaks log-file handles, an error under pytest).
    cfg = replace(_cfg(), methods=("retrain", "ft"), seeds=(0,))
    table = run_experiment(
        cfg, tmp_path / "out", progress=False, executor=SlurmExecutor(cluster="local", folder=str(tmp_path / "jobs"))
    )
    subset = local[(local.seed == 0) & local.method.isin(cfg.methods)].reset_index(drop=True)
    _same(table.drop(columns="run_sha256"), subset.drop(columns="run_sha256"))
    assert len(list((tmp_path / "jobs").glob("*_result.pkl"))) == 3  # the work went through submitit


def test_submitit_job_is_checkpointable_so_preempted_jobs_are_requeued():
    from submitit.helpers import Checkpointable

    from rbmlib.deep.executors import SubmititJob, Task

    job = SubmititJob()
    assert isinstance(job, Checkpointable)
    again = job.checkpoint(_cfg(), "out", Task("cell", 0, 3))
    assert again.function is job and again.args[2] == Task("cell", 0, 3)
