"""Development: what `make run` uses. Embedded defaults, readable logs."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
