"""Staff workspace pages."""
