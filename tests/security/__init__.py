"""Cross-cutting security tests: a served app under forged headers, sessions, the audit chain."""
