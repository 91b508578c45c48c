"""`flask --app app security clear-logins` and `flask --app app audit verify`."""

from __future__ import annotations

import click
from flask import Flask

from consult.audit import verify
from consult.extensions import db
from consult.security import log as security_log
from consult.security import throttle


def init_app(app: Flask) -> None:
    security = click.Group("security", help="Sign-in security: login failure counters.")
    app.cli.add_command(security)

    @security.command("clear-logins")
    @click.option("--email", help="Clear the counters of this address (staff and citizen).")
    @click.option("--client", help="Clear the counters of this client (IPv4 or IPv6 /64).")
    @click.option("--all", "everything", is_flag=True, help="Clear every counter.")
    def clear_logins(email, client, everything):
        """Let an account or a client sign in again at once (login throttling)."""
        if not (email or client or everything):
            raise click.UsageError("give --email, --client or --all")
        count = throttle.clear(email=email, client=client, everything=everything)
        db.session.commit()
        security_log.event("login_counters_cleared", by="cli", count=count)
        click.echo(f"cleared {count} login failure counters")

    audit = click.Group("audit", help="The tamper-evident audit log.")
    app.cli.add_command(audit)

    @audit.command("verify")
    def audit_verify():
        """Walk the audit log's hash chain; name the first broken link (exit status 1)."""
        result = verify()
        if result.intact:
            click.echo(f"audit log intact: {result.count} events, last hash {result.last_hash}")
            return
        entry = result.broken
        click.echo(f"audit log broken at event {entry.id} (sequence {entry.seq}, "
                   f"{entry.action} on {entry.object_type} {entry.object_id}): {result.problem}; "
                   f"the {result.count} events before it are intact", err=True)
        raise SystemExit(1)
