"""Developer machine: the embedded defaults with debugging on. Everything else is base."""

import os

os.environ.setdefault("DEBUG", "true")

from surveillance.settings.base import *  # noqa: F403
