"""`python -m audiogym.cli`."""

import sys

from audiogym.cli import main

sys.exit(main())
