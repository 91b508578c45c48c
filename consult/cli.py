"""Command-line tasks: `flask --app app demo | create-user | outbox send | privacy purge |
digest send | worker`."""

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

    privacy = click.Group("privacy", help="Personal data: retention.")
    app.cli.add_command(privacy)

    @privacy.command("purge")
    @click.option("--dry-run", is_flag=True, help="Only count what would be erased.")
    def privacy_purge(dry_run):
        """Erase contact data whose retention time is up (CONTACT_RETENTION_DAYS)."""
        from consult.comments.privacy import orphan_files, purge_contact_data

        lines = purge_contact_data(dry_run=dry_run)
        files = orphan_files()
        verb = "would erase" if dry_run else "erased"
        for line in lines:
            click.echo(f"consultation {line.consultation.id}: {verb} contact data of "
                       f"{line.comments} comments (due {line.due_at:%Y-%m-%d})")
        total = sum(line.comments for line in lines)
        if not dry_run:  # a dry run wrote nothing
            db.session.commit()
            for path in files:
                path.unlink(missing_ok=True)
        click.echo(f"{verb} contact data of {total} comments in {len(lines)} consultations; "
                   f"{verb} {len(files)} unreferenced attachment files"
                   + (" (dry run: nothing changed)" if dry_run else ""))

    digest = click.Group("digest", help="The staff daily digest of new comments.")
    app.cli.add_command(digest)

    @digest.command("send")
    def digest_send():
        """Queue today's digest for each staff member (once a day; a rerun sends nothing)."""
        from consult.answers.digest import send_digests

        result = send_digests()
        db.session.commit()
        click.echo(f"digest: queued {result.sent} mails; {result.nothing_new} staff had no new "
                   f"comments; {result.already_sent} had today's digest already "
                   "(deliver with `outbox send`)")

    outbox = click.Group("outbox", help="The mail outbox.")
    app.cli.add_command(outbox)

    @outbox.command("send")
    def outbox_send():
        """Deliver every queued mail that is due now."""
        from consult.mail import backlog, deliver_all

        total_sent, total_failed = deliver_all()
        click.echo(f"sent {total_sent}, failed {total_failed}, still queued {backlog()}")

    @app.cli.command("worker")
    @click.option("--burst", is_flag=True, help="Run what is due now, then exit.")
    def worker_command(burst):
        """Run jobs, deliver mail and tick the schedule: an RQ worker on REDIS_URL, else
        polling the database (until SIGTERM; with --burst, until nothing is due)."""
        from consult.jobs.worker import run_worker

        run_worker(app, burst=burst)
