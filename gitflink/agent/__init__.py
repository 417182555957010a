"""The long-running agent: schedule loop, webhook trigger, health and metrics."""
