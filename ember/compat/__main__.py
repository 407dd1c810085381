"""``python -m ember.compat script.py [args ...]``: run a PyTorch program on ember."""

import sys

from ember.compat import main

if __name__ == "__main__":
    sys.exit(main())
