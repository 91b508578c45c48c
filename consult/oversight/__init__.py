"""Oversight: public statistics, yearly figures and reminders (F22, F23, issue 14)."""
