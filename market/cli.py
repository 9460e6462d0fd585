"""Flask CLI: services, db, catalog, demo and jobs commands."""
from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from market.config import ROOT

services_cli = click.Group("services", help="Embedded PostgreSQL and Redis (used when no URLs are set).")
db_cli = AppGroup("db", help="Database schema migrations (Alembic).")
catalog_cli = AppGroup("catalog", help="Reference data: categories, methods, regions, waste codes.")
demo_cli = AppGroup("demo", help="Demo market data.")
jobs_cli = AppGroup("jobs", help="Background jobs: worker, scheduler, outbox.")


def _configured_instance() -> tuple[dict, Path]:
    from market.config import load_config
    cfg = load_config()
    return cfg, Path(cfg["INSTANCE_PATH"])


# The services commands do not build the app: building it would start what `down` should stop.
@services_cli.command("up")
def services_up():
    """Start the embedded services that no URL replaces, and print the URLs in use."""
    from market import embedded
    cfg, instance = _configured_instance()
    db_url = cfg["DATABASE_URL"] or embedded.start_postgres(instance)
    redis_url = cfg["REDIS_URL"] or embedded.start_redis(instance)
    click.echo(f"DATABASE_URL={db_url}")
    click.echo(f"REDIS_URL={redis_url}")


@services_cli.command("down")
def services_down():
    """Stop the embedded PostgreSQL and Redis of this checkout."""
    from market import embedded
    _, instance = _configured_instance()
    embedded.stop_postgres(instance)
    embedded.stop_redis(instance)
    click.echo("embedded services stopped")


@services_cli.command("status")
def services_status():
    """Say which embedded services of this checkout are running."""
    from market import embedded
    _, instance = _configured_instance()
    for name, url in embedded.status(instance).items():
        click.echo(f"{name}: {url or 'not running'}")


def alembic_config():
    from alembic.config import Config
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["url"] = current_app.config["DATABASE_URL"]
    return cfg


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision):
    """Migrate the database to a revision (default: head)."""
    from alembic import command
    command.upgrade(alembic_config(), revision)
    click.echo(f"database at {revision}")


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision):
    from alembic import command
    command.downgrade(alembic_config(), revision)


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
@click.option("--autogenerate", is_flag=True)
def db_revision(message, autogenerate):
    from alembic import command
    command.revision(alembic_config(), message=message, autogenerate=autogenerate)


@catalog_cli.command("load")
def catalog_load():
    """Load categories, method codes, regions and (if no codes yet) the sample code list."""
    from market.catalog.services import load_reference_data
    counts = load_reference_data()
    click.echo(", ".join(f"{v} {k}" for k, v in counts.items()) + " loaded")


@catalog_cli.command("import-codes")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def catalog_import_codes(path):
    """Import an official waste-code list (category,industry,code,description,hazard): all or nothing."""
    from market.catalog.services import import_waste_codes
    from market.errors import ValidationFailed
    try:
        result = import_waste_codes(Path(path).read_text("utf-8-sig"))
    except ValidationFailed as exc:
        click.echo(exc.message, err=True)
        sys.exit(1)
    except UnicodeDecodeError:
        click.echo("the file is not UTF-8 text; nothing imported", err=True)
        sys.exit(1)
    click.echo(f"{len(result.rows)} waste codes imported")


@demo_cli.command("seed")
def demo_seed():
    """Load the demo market of DESIGN.md §9a (idempotent) and print its logins."""
    from market.demo import DEMO_PASSWORD, seed
    from market.demo_history import seed_history
    users = seed(collection=True)
    history = seed_history()
    if not history.get("skipped"):
        click.echo(f"Demo history: {history['orders']} settled orders ({history['abnormal']} "
                   f"abnormally low) and the price index published in {history['seconds']} s")
    click.echo(f"Demo logins (password {DEMO_PASSWORD}):")
    for email, org, role in users:
        click.echo(f"  {email:<26} {role:<10} {org}")


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Exit when the queues are empty.")
@click.option("--no-scheduler", is_flag=True, help="Do not run the daily scheduler in this process.")
def jobs_worker(burst, no_scheduler):
    """Run an rq worker on every queue, with the scheduler and outbox dispatcher beside it."""
    from rq import SimpleWorker
    from market.jobs import QUEUES
    from market.jobs.core import get_queue
    app = current_app._get_current_object()
    if not no_scheduler and not burst:
        threading.Thread(target=_scheduler_loop, args=(app,), daemon=True).start()
    class SessionPerJobWorker(SimpleWorker):
        """Every job starts with a fresh database session, as every request does."""

        def perform_job(self, *args, **kwargs):
            try:
                return super().perform_job(*args, **kwargs)
            finally:
                db.session.remove()

    from market import db
    worker = SessionPerJobWorker([get_queue(q) for q in QUEUES], connection=get_queue("default").connection)
    worker.work(burst=burst, with_scheduler=True)


def _scheduler_loop(app: Flask, interval: float = 30.0) -> None:
    from market import db
    from market.db import utcnow
    from market.jobs.core import dispatch_pending
    from market.jobs.schedule import run_due
    from market.webhooks.delivery import retry_due
    while True:
        with app.app_context():
            try:
                run_due(utcnow())
                dispatch_pending()
                retry_due(utcnow())
            except Exception:  # keep the loop alive; the error is logged and retried next tick
                app.logger.exception("scheduler tick failed")
            finally:
                db.session.remove()
        time.sleep(interval)


@jobs_cli.command("tick")
def jobs_tick():
    """Run the scheduler and the outbox dispatcher once."""
    from market.db import utcnow
    from market.jobs.core import dispatch_pending
    from market.jobs.schedule import run_due
    from market.webhooks.delivery import retry_due
    line = f"started: {run_due(utcnow())}; re-sent: {dispatch_pending()}"
    due = retry_due(utcnow())
    click.echo(line + (f"; webhook deliveries pushed: {due}" if due else ""))


def register_cli(app: Flask) -> None:
    for group in (services_cli, db_cli, catalog_cli, demo_cli, jobs_cli):
        app.cli.add_command(group)
