"""``python -m rbmlib``: see :mod:`rbmlib.cli`."""

from rbmlib.cli import main

raise SystemExit(main())
