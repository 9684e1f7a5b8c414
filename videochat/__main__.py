"""`python -m videochat`: the same command line as the `videochat` program."""

import sys

from videochat.cli import main

if __name__ == "__main__":
    sys.exit(main())
