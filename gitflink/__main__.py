"""`python -m gitflink`."""

import sys

from gitflink.cli import main

sys.exit(main())
