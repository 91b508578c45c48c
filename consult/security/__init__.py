"""Security concerns shared by staff and citizen sign-in: the security and access logs, login
throttling (with the platform admins' page and CLI), and password checks that take the same time
whether or not the account exists. The threat model is in SECURITY.md."""
