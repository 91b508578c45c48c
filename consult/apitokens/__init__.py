"""API tokens (F21): per-unit Bearer tokens for other systems (the city app, OA systems).

A token belongs to a user — a person or a named system account — who holds a role in the
token's unit, and carries scopes; the write API acts as that user, through the same services
and policy checks as the pages, so the audit log names who did what and four-eyes holds (what a
token's user submitted, the same user cannot approve). Tokens are stored hashed (SHA-256 of 256
random bits), shown once, audited on every use, rate-limited per token, revocable, and managed
by platform admins and by a unit's approvers for their units (`services`: the oversight
pages call the same functions).
"""
