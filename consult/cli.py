"""Command-line tasks: `flask --app app demo | create-user | outbox send | privacy purge |
privacy remask | digest send | worker | backup | restore | security clear-logins |
audit verify`."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask

from consult.extensions import db


def init_app(app: Flask) -> None:
    from consult.security import cli as security_cli

    security_cli.init_app(app)

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

    privacy = click.Group("privacy", help="Personal data: retention and masking.")
    app.cli.add_command(privacy)

    @privacy.command("purge")
    @click.option("--dry-run", is_flag=True, help="Only count what would be erased.")
    def privacy_purge(dry_run):
        """Erase contact data whose retention time is up (CONTACT_RETENTION_DAYS)."""
        from consult.comments.privacy import (
            orphan_files,
            purge_contact_data,
            remove_orphan_files,
        )

        lines = purge_contact_data(dry_run=dry_run)
        files = orphan_files()
        verb = "would erase" if dry_run else "erased"
        for line in lines:
            click.echo(f"consultation {line.consultation.id}: {verb} contact data of "
                       f"{line.comments} comments (due {line.due_at:%Y-%m-%d})")
        total = sum(line.comments for line in lines)
        removed = len(files)
        if not dry_run:  # a dry run wrote nothing
            db.session.commit()
            removed = remove_orphan_files(files)
        click.echo(f"{verb} contact data of {total} comments in {len(lines)} consultations; "
                   f"{verb} {removed} unreferenced attachment files"
                   + (" (dry run: nothing changed)" if dry_run else ""))

    @privacy.command("remask")
    @click.option("--dry-run", is_flag=True, help="Only count what would change.")
    def privacy_remask(dry_run):
        """Apply today's masking rules to published reports (a new revision with a note)."""
        from consult.answers.remask import remask_reports

        lines = remask_reports(dry_run=dry_run)
        verb = "would publish" if dry_run else "published"
        for line in lines:
            click.echo(f"consultation {line.consultation.id}: {line.items} items change; "
                       f"{verb} report revision {line.revision + 1}")
        if not dry_run:
            db.session.commit()
        click.echo(f"{verb} {len(lines)} new report revisions; comments themselves are masked "
                   "when shown, under the current rules already"
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

    search = click.Group("search", help="The search index (F19).")
    app.cli.add_command(search)

    @search.command("reindex")
    def search_reindex():
        """Rebuild the search index from everything public (after an upgrade), comments
        still waiting for their rows included."""
        from consult.search.indexing import clear_pending, reindex

        clear_pending(db.session)
        written = reindex(db.session)
        db.session.commit()
        click.echo(f"search: indexed {written} documents")

    outbox = click.Group("outbox", help="The mail outbox.")
    app.cli.add_command(outbox)

    @outbox.command("send")
    def outbox_send():
        """Deliver every queued mail that is due now."""
        from consult.mail import backlog, deliver_all

        total_sent, total_failed = deliver_all()
        click.echo(f"sent {total_sent}, failed {total_failed}, still queued {backlog()}")

    @app.cli.command("backup")
    @click.argument("path", type=click.Path(path_type=Path))
    def backup_command(path):
        """Write one archive with the database and the uploaded files to PATH (a file, or a
        folder to put consult-YYYYmmdd-HHMMSS.tar.gz in). Safe while the site runs."""
        from consult.backup import BackupError, backup
        from consult.storage import StorageUnavailable

        try:
            summary = backup(path)
        except BackupError as error:
            raise click.ClickException(str(error)) from error
        except StorageUnavailable as error:
            raise click.ClickException(f"file storage unavailable: {error.detail}") from error
        click.echo(f"backup: {summary.dialect} database at revision {summary.revision}, "
                   f"{summary.total_rows} rows in {len(summary.rows)} tables, "
                   f"{summary.files} files ({summary.file_bytes} bytes) -> {summary.path}")
        if summary.missing:
            click.echo(f"warning: {len(summary.missing)} files named in the database are "
                       f"missing from the file store: {', '.join(summary.missing)}", err=True)

    @app.cli.command("restore")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--force", is_flag=True,
                  help="Replace a database that holds data (its data is lost).")
    def restore_command(path, force):
        """Restore the database and the uploaded files from a `backup` archive. Stop the app
        and the worker first; run `flask --app app db upgrade` afterwards."""
        from consult.backup import BackupError, restore
        from consult.storage import StorageUnavailable

        try:
            summary = restore(path, force=force)
        except BackupError as error:
            raise click.ClickException(str(error)) from error
        except StorageUnavailable as error:
            raise click.ClickException(f"file storage unavailable: {error.detail}") from error
        click.echo(f"restored: {summary.dialect} database at revision {summary.revision}, "
                   f"{summary.total_rows} rows in {len(summary.rows)} tables, "
                   f"{summary.files} files ({summary.file_bytes} bytes) from {summary.path}; "
                   "now run `flask --app app db upgrade`")
    @app.cli.command("worker")
    @click.option("--burst", is_flag=True, help="Run what is due now, then exit.")
    def worker_command(burst):
        """Run jobs, deliver mail and tick the schedule: an RQ worker on REDIS_URL, else
        polling the database (until SIGTERM; with --burst, until nothing is due)."""
        from consult.jobs.worker import run_worker

        run_worker(app, burst=burst)
