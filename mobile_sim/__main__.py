"""``python -m mobile_sim``: the ``mobile-sim`` command without the console script."""

from mobile_sim.cli import main

raise SystemExit(main())
