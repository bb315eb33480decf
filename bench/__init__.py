"""`make bench`: figures side by side with the alternatives, measured in one run."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the checkout
