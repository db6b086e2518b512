"""``python -m casesync``: the same as the ``casesync`` command."""

import sys

from casesync.cli import main

sys.exit(main())
