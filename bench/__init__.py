"""`make bench`: figures side by side with the alternatives, measured in one run."""
