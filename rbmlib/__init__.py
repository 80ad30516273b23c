"""rbmlib: the library behind the RBM companion book.

Each module holds one concept of the book and mirrors a chapter:

* :mod:`rbmlib.linear_model` — the block feature model, interpolating fits and losses (Chapter 1).
* :mod:`rbmlib.deep` — the deep-unlearning engine (Chapter 6); imported lazily because it needs torch.
"""
