"""Entry point of the container action (also runnable on any host after `pip install .`)."""

import sys

from versioned_action.github.action import main

if __name__ == "__main__":
    sys.exit(main())
