"""Site-wide pages: home, privacy notice, health check (views.py)."""
