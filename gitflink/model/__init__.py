"""The vocabulary: resource models, ids, problems, plans and status. No behaviour."""
