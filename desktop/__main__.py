"""`python -m desktop [FILE]`: the same as the `videochat-desktop` command."""

import sys

from desktop.app import main

sys.exit(main())
