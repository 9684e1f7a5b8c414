"""`python -m videochat.cli`."""

import sys

from videochat.cli import main

if __name__ == "__main__":
    sys.exit(main())
