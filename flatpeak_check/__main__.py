"""`python -m flatpeak_check`: the same as the `flatpeak-check` console script."""

from __future__ import annotations

import sys

from flatpeak_check.cli import main

if __name__ == "__main__":
    sys.exit(main())
