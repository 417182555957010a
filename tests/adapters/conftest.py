"""Each adapter against the real thing it wraps: Git repositories, files, an HTTP server."""
