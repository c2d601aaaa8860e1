"""A throwaway PostgreSQL cluster on a loopback port, for the tests and the benchmark.

The server binaries come from Debian's ``postgresql`` package (``.ci/postgres-server``
installs it when missing; they live in ``/usr/lib/postgresql/<version>/bin``, not on PATH).
``initdb`` and ``postgres`` refuse to run as root, so as root the cluster belongs to the
``postgres`` user the package creates and every server command runs through ``runuser``.
pytest-postgresql's process fixture calls ``pg_ctl`` directly and so cannot start a cluster
as root (its issues #341 and #455: "pg_ctl: cannot be run as root"); this module does the
same few steps itself (initdb, pg_ctl start -w, stop).

One cluster per process: under pytest-xdist every worker starts its own, on its own port
and in its own directory, and each test gets a database of its own.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_USER = "postgres"


def server_bindir() -> Path | None:
    """The newest installed server's bin directory (with ``initdb``), or ``None``."""
    candidates = sorted(
        (p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "initdb").is_file()),
        key=lambda p: int(re.sub(r"\D", "", p.parent.name) or 0),
    )
    if candidates:
        return candidates[-1]
    found = shutil.which("initdb")
    return None if found is None else Path(found).parent


def ensure_server() -> Path:
    """The server's bin directory, installing Debian's package first when it is missing."""
    bindir = server_bindir()
    if bindir is None:
        subprocess.run([str(ROOT / ".ci" / "postgres-server")], check=True)
        bindir = server_bindir()
    if bindir is None:
        raise RuntimeError(".ci/postgres-server ran but no PostgreSQL server is installed")
    return bindir


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """``initdb`` in a fresh directory, ``postgres`` on 127.0.0.1:PORT, trust auth."""

    def __init__(self) -> None:
        self.bindir = ensure_server()
        self.root = Path(tempfile.mkdtemp(prefix="exsdk-pg-"))
        self.data = self.root / "data"
        self.port = 0
        self._as_root = os.geteuid() == 0
        if self._as_root:
            entry = pwd.getpwnam(_USER)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "exsdk", "--auth=trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")  # fmt: skip
        for attempt in range(3):
            # The free port is only probed: another process may take it before the server
            # binds it (under xdist, each worker starts its own cluster at about once).
            self.port = _free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -c port={self.port} "
                f"-c unix_socket_directories={self.root} -c max_connections=60 "
                "-c shared_buffers=32MB"
            )
            try:
                self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"),
                          "-w", "-t", "60", "-o", options, "start")  # fmt: skip
                return
            except RuntimeError:
                if attempt == 2:
                    raise

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bindir / tool), *args]
        if self._as_root:
            command = ["runuser", "-u", _USER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text()[-2000:] if log.is_file() else ""
            raise RuntimeError(f"{tool} failed: {done.stdout}{done.stderr}{tail}")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://exsdk@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh empty database; its URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def cluster() -> Iterator[Cluster]:
    """A running cluster for the block, removed afterwards."""
    c = Cluster()
    try:
        yield c
    finally:
        c.stop()
