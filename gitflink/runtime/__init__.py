"""One reconciliation pass: observing, executing, and the reconciler that sequences them."""
