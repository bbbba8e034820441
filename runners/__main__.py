"""`python -m runners '<event json>'`: the Fargate task's command."""
import sys

from .handler import main

sys.exit(main())
