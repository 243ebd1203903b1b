"""A private, production-like salesmgmt stack under a temporary folder, torn down on exit.

PostgreSQL (own cluster, fsync on, port 25432) and its streaming read replica (port 25433,
``pg_basebackup -R``; gunicorn reads through it with DATABASE_REPLICA_URL unless
``replica=False``), Redis (own server, append-only file, port 6390), gunicorn (port 8100), a
Celery worker and beat, all with the production settings (scripts/ops/settings.py only lifts
the HTTPS-only switches for loopback HTTP).
Nothing touches the machine's own PostgreSQL or Redis. Each component can be stopped,
killed and started again, which is what the fault scenarios do.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
# Below the kernel's ephemeral range (32768-60999 here): a port in it can be taken at any
# moment by some client's outgoing connection, and the server then cannot bind it.
PG_PORT = 25432
PG_REPLICA_PORT = 25433
REDIS_PORT = 6390
WEB_PORT = 8100
HOST = "127.0.0.1"
BASE_URL = f"http://{HOST}:{WEB_PORT}"
DB_NAME = "salesmgmt"
NICE = ("nice", "-n", "10")  # the background processes' CPU priority (start_worker)
# Migrating and seeding take minutes on a busy 2-core box; the result is kept as a dump, keyed
# by everything that shapes it, and restored in seconds by later runs.
CACHE_DIR = Path(os.environ.get("OPS_CACHE_DIR", Path.home() / ".cache" / "salesmgmt-ops"))


def pg_bin(name: str) -> str:
    """The newest installed PostgreSQL's binary (Debian keeps them per major version)."""
    found = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: int(Path(p).parts[4]),
    )
    if not found:
        raise SystemExit(f"PostgreSQL's {name} is not installed (apt-get install postgresql).")
    return found[-1]


def static_key() -> str:
    """Changes with our static files and the packages that ship static files."""
    from importlib.metadata import version

    digest = hashlib.sha256()
    for package in ("django", "plotly", "drf-spectacular-sidecar", "whitenoise"):
        digest.update(f"{package}={version(package)}".encode())
    for path in sorted((ROOT / "static").rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _prune(paths, *, keep: int) -> None:
    """Drop all but the ``keep`` newest cache entries (each schema change adds one)."""
    for path in sorted(paths, key=lambda p: p.stat().st_mtime, reverse=True)[keep:]:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _port_in_use(port: int) -> bool:
    """Whether a server could not listen on ``port``: a listener, or any socket bound to it."""
    with socket.socket() as probe:
        # As the servers bind (SO_REUSEADDR): a closed connection in TIME_WAIT is no obstacle.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return True
    return False


def _since(mark: float) -> str:
    return f"{time.monotonic() - mark:.0f} s"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class Stack:
    """Start with ``start()``; ``close()`` (also run at exit and on SIGINT/SIGTERM) stops all."""

    def __init__(
        self, *, reps: int, opportunities: int, web_workers: int = 4, replica: bool = True
    ) -> None:
        self.reps, self.opportunities, self.web_workers = reps, opportunities, web_workers
        self.replica = replica
        self.dir = Path(tempfile.mkdtemp(prefix=f"salesmgmt-ops-{os.getpid()}-", dir="/tmp"))
        self.dir.chmod(0o755)  # the postgres user must reach its data folder inside
        self.logs = self.dir / "logs"
        self.logs.mkdir()
        self.pg_data = self.dir / "pg"
        self.pg_replica_data = self.dir / "pg-replica"
        self.pg_socket = self.dir / "pgsock"
        self.pg_logs = self.logs / "postgresql"  # written by the postgres user
        self.redis_dir = self.dir / "redis"
        self.plan_path = self.dir / "plan.json"
        self.procs: dict[str, subprocess.Popen] = {}
        self.worker_starts = 0
        self.pg_running = False
        self.replica_running = False
        self.closed = False
        self.keep = bool(os.environ.get("OPS_KEEP"))  # set on failure: keep logs to read
        self.database_url = f"postgres://postgres@{HOST}:{PG_PORT}/{DB_NAME}"
        self.env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
        }
        self.env.update(
            {
                "DJANGO_SETTINGS_MODULE": "scripts.ops.settings",
                "PYTHONPATH": str(ROOT),
                "DATABASE_URL": self.database_url,
                "REDIS_URL": f"redis://{HOST}:{REDIS_PORT}/0",
                "SECRET_KEY": secrets.token_urlsafe(50),
                "ALLOWED_HOSTS": f"{HOST},localhost",
                "CSRF_TRUSTED_ORIGINS": BASE_URL,
                "SECURE_SSL_REDIRECT": "False",
                "TWO_FACTOR_REQUIRED_ROLES": "",
                "OPS_STATIC_ROOT": str(CACHE_DIR / f"static-{static_key()}"),
                "LOG_LEVEL": "WARNING",
                # Server time and queries per request (scripts/ops/timing.py).
                "OPS_TIMING_LOG": str(self.logs / "requests.jsonl"),
                "PYTHONUNBUFFERED": "1",
            }
        )
        atexit.register(self.close)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum: int, frame: object) -> None:
        # SystemExit unwinds the caller's finally blocks; close() then runs (also via atexit).
        raise SystemExit(128 + signum)

    # --- the whole stack -------------------------------------------------------------------

    def start(self) -> None:
        started = time.monotonic()
        log(f"Stack folder {self.dir}")
        ports = (PG_PORT, PG_REPLICA_PORT, REDIS_PORT, WEB_PORT)
        busy = [port for port in ports if _port_in_use(port)]
        if busy:
            raise RuntimeError(
                f"Ports {busy} on {HOST} are in use (another load/fault run still going?)"
            )
        self.init_postgres()
        # Loading the data is set-up, not under test: it runs without fsync, then the server
        # restarts cleanly with fsync on (postgresql.auto.conf) before anything is served.
        self.start_postgres(fast_load=True)
        self.start_redis()
        self.prepare_database()
        self.stop_postgres("fast")
        self.start_postgres()
        fsync = self.query("SHOW fsync")[0][0]
        if fsync != "on":
            raise RuntimeError(f"PostgreSQL runs with fsync={fsync}")
        if self.replica:
            mark = time.monotonic()
            self.init_replica()
            self.start_replica()
            self.env["DATABASE_REPLICA_URL"] = self.replica_url
            log(f"Streaming replica on port {PG_REPLICA_PORT} caught up in {_since(mark)}")
        self.start_web()
        self.start_worker()
        self.start_beat()
        log(f"Stack up in {time.monotonic() - started:.0f} s: {BASE_URL}")

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for name in list(self.procs):
            self._stop_proc(name, signal.SIGTERM, timeout=10)
        if self.replica_running:
            self._pg_ctl("stop", "-m", "fast", data=self.pg_replica_data, check=False)
        if self.pg_running:
            self._pg_ctl("stop", "-m", "fast", check=False)
        if self.keep:
            log(f"Logs and data kept in {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def plan(self) -> dict:
        return json.loads(self.plan_path.read_text())

    # --- processes ------------------------------------------------------------------------

    def _spawn(self, name: str, args: Sequence[str], log_name: str | None = None) -> None:
        handle = open(self.logs / f"{log_name or name}.log", "ab")  # noqa: SIM115 - child owns it
        # A session of its own: the whole group (a worker and its pool) can be signalled.
        self.procs[name] = subprocess.Popen(  # noqa: S603 - fixed argument lists
            list(args),
            cwd=ROOT,
            env=self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        handle.close()

    def _stop_proc(self, name: str, sig: int, timeout: float = 20) -> None:
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        # Children left in the group after the leader exited (a pool process) go too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)

    def run(self, *args: str, timeout: float = 1800) -> str:
        """Run a command in the stack's environment; its output is logged and returned."""
        result = subprocess.run(  # noqa: S603 - fixed argument lists
            list(args),
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        with open(self.logs / "commands.log", "a") as handle:
            handle.write(f"$ {' '.join(args)}\n{result.stdout}{result.stderr}\n")
        if result.returncode:
            raise RuntimeError(
                f"{' '.join(args)} failed ({result.returncode}):\n{result.stderr[-3000:]}"
            )
        return result.stdout

    def manage(self, *args: str, timeout: float = 1800) -> str:
        return self.run(str(BIN / "python"), "manage.py", *args, timeout=timeout)

    # --- PostgreSQL -----------------------------------------------------------------------

    def _as_postgres(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        # initdb refuses to run as root: the cluster belongs to the postgres user.
        result = subprocess.run(  # noqa: S603 - fixed argument lists
            ["runuser", "-u", "postgres", "--", *args],  # noqa: S607
            capture_output=True,
            text=True,
            check=False,
            timeout=180,
        )
        if check and result.returncode:
            raise RuntimeError(f"{' '.join(args)} failed: {result.stdout}{result.stderr}")
        return result

    def _pg_ctl(
        self, *args: str, data: Path | None = None, check: bool = True
    ) -> subprocess.CompletedProcess:
        folder = str(data or self.pg_data)
        return self._as_postgres(pg_bin("pg_ctl"), "-D", folder, *args, check=check)

    def init_postgres(self) -> None:
        for folder in (self.pg_data, self.pg_socket, self.pg_logs):
            folder.mkdir()
            shutil.chown(folder, "postgres", "postgres")
        self._as_postgres(
            pg_bin("initdb"),
            "-D",
            str(self.pg_data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-instructions",
        )
        with open(self.pg_data / "postgresql.auto.conf", "a") as conf:
            conf.write(
                f"port = {PG_PORT}\nlisten_addresses = '{HOST}'\n"
                f"unix_socket_directories = '{self.pg_socket}'\n"
                "fsync = on\nsynchronous_commit = on\nmax_connections = 200\n"
                "shared_buffers = 256MB\n"
                # Segments as files in the data folder, not in /dev/shm: a sandbox may mount
                # /dev/shm small or closed to the postgres user, which only the postmaster
                # (never initdb) trips over. No huge pages for the same reason.
                "dynamic_shared_memory_type = mmap\nhuge_pages = off\n"
            )

    def start_postgres(self, *, fast_load: bool = False) -> None:
        options = ["-o", "-c fsync=off -c synchronous_commit=off"] if fast_load else []
        server_log = self.pg_logs / "server.log"
        try:
            self._pg_ctl("-l", str(server_log), "-w", "-t", "120", *options, "start")
        except RuntimeError as error:
            # pg_ctl only says "Examine the log output": put the server's own words in the error.
            tail = server_log.read_text(errors="replace")[-3000:] if server_log.exists() else ""
            raise RuntimeError(f"{error}\n--- {server_log} ---\n{tail}") from None
        self.pg_running = True
        self._wait(lambda: self._pg_ready(), 60, "PostgreSQL accepting connections")

    def stop_postgres(self, mode: str) -> None:
        """``fast`` (clean shutdown) or ``immediate`` (no checkpoint: crash recovery on start)."""
        self._pg_ctl("stop", "-m", mode, "-w", "-t", "120")
        self.pg_running = False

    def _pg_ready(self) -> bool:
        try:
            psycopg2.connect(
                host=HOST, port=PG_PORT, user="postgres", dbname="postgres", connect_timeout=2
            ).close()
        except psycopg2.OperationalError:
            return False
        return True

    # --- the read replica -----------------------------------------------------------------

    @property
    def replica_url(self) -> str:
        return f"postgres://postgres@{HOST}:{PG_REPLICA_PORT}/{DB_NAME}"

    def init_replica(self) -> None:
        """A base backup of the running primary, configured to stream from it (``-R``).

        initdb's defaults already allow it: wal_level=replica, ten WAL senders and a trusted
        replication line for loopback in pg_hba.conf.
        """
        self.pg_replica_data.mkdir(mode=0o700)
        shutil.chown(self.pg_replica_data, "postgres", "postgres")
        self._as_postgres(
            pg_bin("pg_basebackup"), "-h", HOST, "-p", str(PG_PORT), "-U", "postgres",
            "-D", str(self.pg_replica_data), "-R", "-X", "stream", "-c", "fast",
        )  # fmt: skip
        with open(self.pg_replica_data / "postgresql.auto.conf", "a") as conf:
            conf.write(
                # After the primary's copied settings: these win.
                f"port = {PG_REPLICA_PORT}\n"
                # The primary keeps the rows a replica query still reads: without it, a
                # vacuum on the primary cancels a page's query on the replica (an error).
                "hot_standby_feedback = on\nwal_receiver_status_interval = 1s\n"
            )

    def start_replica(self) -> None:
        server_log = self.pg_logs / "replica.log"
        self._pg_ctl("-l", str(server_log), "-w", "-t", "120", "start", data=self.pg_replica_data)
        self.replica_running = True
        self.wait_replica_caught_up()

    def stop_replica(self) -> None:
        self._pg_ctl("stop", "-m", "fast", "-w", "-t", "120", data=self.pg_replica_data)
        self.replica_running = False

    def wait_replica_caught_up(self, timeout: float = 120) -> None:
        """Until the replica has replayed everything the primary has written so far."""
        target = self.query("SELECT pg_current_wal_lsn()")[0][0]

        def replayed() -> bool:
            try:
                rows = self.query(
                    "SELECT pg_wal_lsn_diff(%s, pg_last_wal_replay_lsn()) <= 0",
                    (target,),
                    url=self.replica_url,
                )
            except psycopg2.OperationalError:
                return False
            return bool(rows[0][0])

        self._wait(replayed, timeout, f"the replica replaying up to {target}")

    def query(
        self, sql: str, params: Sequence | None = None, *, url: str | None = None
    ) -> list[tuple]:
        """Read the stack's database over a fresh connection (survives server restarts)."""
        connection = psycopg2.connect(url or self.database_url, connect_timeout=5)
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall() if cursor.description else []
        finally:
            connection.commit()
            connection.close()

    # --- Redis ----------------------------------------------------------------------------

    def start_redis(self) -> None:
        self.redis_dir.mkdir(exist_ok=True)
        self._spawn(
            "redis",
            [
                "redis-server",
                "--port",
                str(REDIS_PORT),
                "--bind",
                HOST,
                "--dir",
                str(self.redis_dir),
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
                "--save",
                "",
            ],
        )
        self._wait(self._redis_ready, 30, "Redis answering PING")

    def stop_redis(self) -> None:
        self._stop_proc("redis", signal.SIGTERM)

    def _redis_ready(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(host=HOST, port=REDIS_PORT, socket_timeout=1).ping())
        except redis.RedisError:
            return False

    # --- the application ------------------------------------------------------------------

    def _seed_key(self) -> str:
        """Changes with the seed's size and any application code.

        All of it, not only the schema and the demo generator: the seed also stores what the
        services compute (attainment, compliance, planning snapshots), and a dump made by older
        code would hand the scenarios stale aggregates.
        """
        digest = hashlib.sha256(f"{self.reps}/{self.opportunities}/{pg_bin('postgres')}".encode())
        apps = [
            *("salesmgmt", "accounts", "territories", "forecasting", "coaching", "compensation"),
            *("csv_import", "demo_data", "benchmarks", "reconciliation"),
        ]
        sources = [path for app in apps for path in ROOT.glob(f"{app}/**/*.py")]
        for path in sorted(sources):
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
        return digest.hexdigest()[:16]

    def prepare_database(self) -> None:
        connection = psycopg2.connect(host=HOST, port=PG_PORT, user="postgres", dbname="postgres")
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {DB_NAME}")
        connection.close()
        static_root = Path(self.env["OPS_STATIC_ROOT"])
        static_partial = static_root.with_suffix(".partial")
        collecting = not (static_root / "staticfiles.json").exists()
        if collecting:
            # In parallel with the data load (compressing takes a minute of CPU), into a
            # side folder renamed when complete; tracked, so close() stops it too.
            shutil.rmtree(static_partial, ignore_errors=True)
            self.env["OPS_STATIC_ROOT"] = str(static_partial)
            self._spawn(
                "collectstatic", [str(BIN / "python"), "manage.py", "collectstatic", "--noinput"]
            )
            self.env["OPS_STATIC_ROOT"] = str(static_root)
        dump = CACHE_DIR / f"seed-{self._seed_key()}.dump"
        mark = time.monotonic()
        if dump.exists():
            subprocess.run(  # noqa: S603 - fixed argument list
                [pg_bin("pg_restore"), "-j", "2", "--no-owner", "-d", self.database_url, dump],
                check=True,
                capture_output=True,
            )
            log(f"Restored the migrated, seeded database from {dump} in {_since(mark)}")
        else:
            self.manage("migrate", "--noinput")
            log(f"Migrated in {_since(mark)}")
            mark = time.monotonic()
            self.manage(
                "seed_demo", "--reps", str(self.reps), "--opportunities", str(self.opportunities)
            )
            log(f"Seeded {self.reps} reps, {self.opportunities} opportunities in {_since(mark)}")
            CACHE_DIR.mkdir(parents=True, exist_ok=True)
            partial = dump.with_suffix(".partial")
            subprocess.run(  # noqa: S603 - fixed argument list
                [pg_bin("pg_dump"), "-Fc", "-f", partial, self.database_url],
                check=True,
                capture_output=True,
            )
            partial.rename(dump)
            _prune(CACHE_DIR.glob("seed-*.dump"), keep=4)
        mark = time.monotonic()
        self.manage("recompute_forecasts", "--all")
        log(f"Full recompute (in-process) in {_since(mark)}")
        self.run(str(BIN / "python"), "-m", "scripts.ops.provision", str(self.plan_path))
        if collecting:
            if self.procs["collectstatic"].wait(timeout=600):
                raise RuntimeError(f"collectstatic failed; see {self.logs}")
            del self.procs["collectstatic"]
            if not static_root.exists():  # a parallel run may have finished one first
                static_partial.rename(static_root)
                _prune((p for p in CACHE_DIR.glob("static-*") if p.suffix != ".partial"), keep=2)
            shutil.rmtree(static_partial, ignore_errors=True)

    def start_web(self) -> None:
        self._spawn(
            "gunicorn",
            [
                str(BIN / "gunicorn"),
                "salesmgmt.wsgi:application",
                "--workers",
                str(self.web_workers),
                "--bind",
                f"{HOST}:{WEB_PORT}",
                "--timeout",
                "60",
                "--graceful-timeout",
                "5",
                "--access-logfile",
                str(self.logs / "access.log"),
            ],
        )
        self._wait(self.web_ready, 60, "gunicorn answering /healthz/")

    def web_ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{BASE_URL}/healthz/", timeout=5) as response:  # noqa: S310
                return response.status == 200
        except OSError:
            return False

    def start_worker(self) -> None:
        self.worker_starts += 1
        self._spawn(
            "worker",
            [
                # Below the web workers on the shared CPUs: a page waits for nobody, a
                # debounced refresh can wait a moment (the worker runs on the same box here).
                *NICE,
                str(BIN / "celery"),
                "-A",
                "salesmgmt",
                "worker",
                "--loglevel=INFO",
                "--concurrency=2",
                "-n",
                f"ops{self.worker_starts}@%h",
            ],
            log_name=f"worker-{self.worker_starts}",
        )
        self._wait(self._worker_ready, 60, "Celery worker ready")

    def _worker_ready(self) -> bool:
        text = (self.logs / f"worker-{self.worker_starts}.log").read_text(errors="replace")
        return " ready." in text

    def kill_worker(self) -> None:
        """kill -9 the worker and its pool processes (the whole process group)."""
        self._stop_proc("worker", signal.SIGKILL)

    def stop_worker(self) -> None:
        self._stop_proc("worker", signal.SIGTERM, timeout=60)

    def start_beat(self) -> None:
        self._spawn(
            "beat",
            [
                *NICE,
                str(BIN / "celery"),
                "-A",
                "salesmgmt",
                "beat",
                "--loglevel=INFO",
                "--schedule",
                str(self.dir / "celerybeat-schedule"),
            ],
        )

    def stop_beat(self) -> None:
        self._stop_proc("beat", signal.SIGTERM, timeout=20)

    def worker_log(self) -> str:
        return "".join(
            path.read_text(errors="replace") for path in sorted(self.logs.glob("worker-*.log"))
        )

    # --- waiting --------------------------------------------------------------------------

    def _wait(self, ready: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready():
                return
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited ({proc.returncode}); see {self.logs}")
            time.sleep(0.2)
        raise RuntimeError(f"Timed out after {timeout:.0f} s waiting for {what}; see {self.logs}")


def python_exe() -> str:
    return str(BIN / "python") if (BIN / "python").exists() else sys.executable
