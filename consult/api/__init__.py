"""JSON API v1 (SPEC §5): views.py (its blueprint), schemas.py (what a request may say),
serializers.py (what an answer says)."""
