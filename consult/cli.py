"""Command-line tasks: `flask --app app demo | create-user | outbox send`."""

from __future__ import annotations

import click
from flask import Flask

from consult.extensions import db


def init_app(app: Flask) -> None:
    @app.cli.command("demo")
    def demo_command():
        """Load the demo data set (idempotent: a second run adds nothing)."""
        from consult.demo import load_demo

        counts = load_demo()
        click.echo("demo data: " + ", ".join(f"{k} +{v}" for k, v in counts.items()))

    @app.cli.command("create-user")
    @click.option("--email", prompt=True)
    @click.option("--name", prompt=True)
    @click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
    @click.option("--unit", "unit_name", default=None, help="Unit name for the membership.")
    @click.option("--role", type=click.Choice(["editor", "approver", "legal_reviewer", "admin"]),
                  default=None)
    def create_user_command(email, name, password, unit_name, role):
        """Create a staff account, optionally with a role in a unit (admin needs no unit)."""
        from consult.auth.services import create_user

        try:
            user = create_user(email=email, name=name, password=password, unit_name=unit_name,
                               role=role)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        db.session.commit()
        click.echo(f"created user {user.id} <{user.email}>")

    outbox = click.Group("outbox", help="The mail outbox.")
    app.cli.add_command(outbox)

    @outbox.command("send")
    def outbox_send():
        """Deliver every queued mail that is due now."""
        from consult.mail import backlog, deliver_due

        total_sent = total_failed = 0
        while True:
            sent, failed = deliver_due()
            total_sent += sent
            total_failed += failed
            if sent + failed == 0 or sent == 0:
                break
        click.echo(f"sent {total_sent}, failed {total_failed}, still queued {backlog()}")
