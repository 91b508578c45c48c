"""Hearings and symposiums (听证会 / 座谈会): notice, participants, record (F11b)."""
