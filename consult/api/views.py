"""API endpoints."""
