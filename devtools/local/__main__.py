"""``python -m devtools.local`` (``make run``, ``make upload``, ``make release``): see ``server``."""

import sys

from devtools.local.server import main

sys.exit(main())
