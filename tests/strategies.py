"""Hypothesis strategies shared by the linear-model tests."""

from __future__ import annotations

from hypothesis import strategies as st

from rbmlib.linear_model import BlockSizes


@st.composite
def block_sizes(draw, *, distinct: bool = False, min_block: int = 0, max_block: int = 10) -> BlockSizes:
    """Random over-parameterised block sizes.

    ``distinct`` forces :math:`d_o = 0`; ``min_block`` is the smallest size of each block (use 1
    for every block non-empty). Both data sets always have a non-empty support and
    :math:`n_f, n_r \\ge 1`.
    """
    d_o = 0 if distinct else draw(st.integers(min_block, max_block))
    d_f, d_r = draw(st.integers(min_block, max_block)), draw(st.integers(min_block, max_block))
    d_f += d_f + d_o == 0  # both data sets need a non-empty support
    d_r += d_o + d_r == 0
    d_r += d_f + d_o + d_r < 2  # room for n_f, n_r >= 1
    d = d_f + d_o + d_r
    n_f = draw(st.integers(1, min(d_f + d_o, d - 1)))
    n_r = draw(st.integers(1, min(d_o + d_r, d - n_f)))
    return BlockSizes(d_f, d_o, d_r, n_f, n_r)
