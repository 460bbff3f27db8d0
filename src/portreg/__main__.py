"""``python -m portreg``."""

import sys

from portreg.cli import main

sys.exit(main())
