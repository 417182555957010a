"""`gitflink` subcommands as a user runs them, on real Git repositories."""
