"""Shared fixtures. Theorem tests take a ``seed``: one default value, widened on demand.

``RBM_TEST_SEEDS=0-49 make test`` runs every seeded theorem test for seeds 0..49; the failing
seed is part of the test id, so a failure names it.

Property tests (hypothesis) are a gate in ``make test``, so the same tree gets the same verdict:
the ``gate`` profile draws each test's examples from a seed fixed by the test (``derandomize``).
``HYPOTHESIS_PROFILE=explore`` draws fresh examples on every run, to search for counterexamples
(``HYPOTHESIS_PROFILE=explore pytest tests/test_theory_masked.py --hypothesis-seed=121``
replays one search); a counterexample found that way becomes an ``@example`` of its test.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import settings

settings.register_profile("gate", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "gate"))


def _seeds() -> list[int]:
    spec = os.environ.get("RBM_TEST_SEEDS", "0")
    if "-" in spec:
        lo, hi = (int(part) for part in spec.split("-"))
        return list(range(lo, hi + 1))
    return [int(part) for part in spec.split(",")]


@pytest.fixture(params=_seeds(), ids=lambda s: f"seed={s}")
def seed(request) -> int:
    return request.param


@pytest.fixture
def rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


@pytest.fixture(scope="module")
def one_torch_thread():
    """One torch intra-op thread for a test module, restored afterwards.

    `make test` runs two pytest workers on two cores; two threads per worker oversubscribe the
    CPU and tiny torch operations then get about ten times slower. Deep test modules opt in with
    ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``.
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
