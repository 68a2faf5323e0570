"""``python -m authsvc`` is the ``authsvc`` command."""

from authsvc.cli import main

raise SystemExit(main())
