"""tinynet: a small, exact, object-oriented deep-learning framework on numpy."""
