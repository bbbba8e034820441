"""`python -m runners '<event json>'`: the Fargate task's command."""
import sys

from . import zygote

zygote.make_undumpable()  # first: the environment holds the task role's credential URI (or keys)

from .handler import main  # noqa: E402 - after the seal

sys.exit(main())
