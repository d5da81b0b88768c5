"""Runs the Mattermost server built by tests/mattermost/build-mattermost.sh.

One server per test session, on 127.0.0.1 with a free port, against the local
PostgreSQL prepared by tests/mattermost/setup-postgres.sh. Its configuration
switches off everything that would reach outside this machine.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

MATTERMOST_DIR = Path(__file__).resolve().parent.parent / "mattermost"
V8_MODULE = "github.com/mattermost/mattermost/server/v8"
PUBLIC_MODULE = "github.com/mattermost/mattermost/server/public"
# Folders the server looks up relative to its working directory.
SERVER_ASSETS = ("i18n", "templates", "fonts")

START_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 30.0


class HarnessError(RuntimeError):
    """The harness could not provide a running server."""


class MattermostMissing(HarnessError):
    """The server binary has not been built on this machine."""


def _pinned_version(go_mod: str, module: str) -> str:
    for line in go_mod.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == module and parts[1].startswith("v"):
            return parts[1]
    raise HarnessError(f"{module} is not pinned in {MATTERMOST_DIR / 'go.mod'}")


@dataclass(frozen=True)
class Build:
    """Where build-mattermost.sh put the server for the versions in go.mod."""

    v8_version: str
    public_version: str
    binary: Path
    server_path: Path  # the server/v8 module folder: i18n/, templates/, fonts/

    @classmethod
    def locate(cls) -> Build:
        go_mod = (MATTERMOST_DIR / "go.mod").read_text(encoding="utf-8")
        v8 = _pinned_version(go_mod, V8_MODULE)
        public = _pinned_version(go_mod, PUBLIC_MODULE)
        cache = Path(os.environ.get("WHOKNOWS_CACHE") or Path.home() / ".cache" / "whoknows")
        out = cache / "mattermost" / f"{v8}_{public}"
        binary = out / "bin" / "mattermost"
        path_file = out / "server-path"
        hint = "run `make e2e-deps` (or set WHOKNOWS_SKIP_E2E=1 to skip the end-to-end tests)"
        if not binary.is_file() or not path_file.is_file():
            raise MattermostMissing(f"no Mattermost server at {binary}: {hint}")
        server_path = Path(path_file.read_text(encoding="utf-8").strip())
        if not (server_path / "i18n").is_dir():
            raise MattermostMissing(f"the Mattermost server files are gone from {server_path}: {hint}")
        return cls(v8, public, binary, server_path)


@dataclass(frozen=True)
class Postgres:
    """The test database; defaults match tests/mattermost/setup-postgres.sh."""

    host: str = "127.0.0.1"
    port: int = 5432
    user: str = "mmuser"
    password: str = "mmtest"
    database: str = "mattermost_test"

    @classmethod
    def from_env(cls) -> Postgres:
        env = os.environ
        return cls(
            port=int(env.get("WHOKNOWS_PG_PORT", "5432")),
            user=env.get("WHOKNOWS_PG_USER", "mmuser"),
            password=env.get("WHOKNOWS_PG_PASSWORD", "mmtest"),
            database=env.get("WHOKNOWS_PG_DATABASE", "mattermost_test"),
        )

    @property
    def dsn(self) -> str:
        return (
            f"postgres://{self.user}:{self.password}@{self.host}:{self.port}/{self.database}"
            "?sslmode=disable&connect_timeout=10"
        )

    def _psql(self, sql: str) -> str:
        psql = shutil.which("psql")
        if psql is None:
            raise HarnessError("psql is missing: run `make e2e-deps`")
        command = [psql, "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-h", self.host,
                   "-p", str(self.port), "-U", self.user, "-d", "postgres", "-c", sql]
        env = {**os.environ, "PGPASSWORD": self.password, "PGCONNECT_TIMEOUT": "10"}
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise HarnessError(
                f"PostgreSQL at {self.host}:{self.port} refused {sql!r}: {done.stderr.strip()}"
                " (is it running? `make postgres`)"
            )
        return done.stdout.strip()

    def reset(self) -> None:
        """Drops and recreates the test database: every session starts empty.

        The server's schema migrations take about a second on an empty
        PostgreSQL database, so no template copy is kept.
        """
        self._psql(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        self._psql(f'CREATE DATABASE "{self.database}"')


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_config(run_dir: Path, port: int, pg: Postgres) -> dict[str, Any]:
    """The config.json of the test server: local only, permissive for bots."""
    site = f"http://127.0.0.1:{port}"
    return {
        "ServiceSettings": {
            "SiteURL": site,
            "ListenAddress": f"127.0.0.1:{port}",
            "WebserverMode": "disabled",  # no webapp: REST and websocket only
            "EnableBotAccountCreation": True,
            "EnableUserAccessTokens": True,
            "EnableCommands": True,
            "EnableIncomingWebhooks": True,
            "EnableOutgoingWebhooks": True,
            "EnablePostUsernameOverride": True,
            "EnablePostIconOverride": True,
            # slash commands and interactive buttons call the bot on 127.0.0.1
            "AllowedUntrustedInternalConnections": "127.0.0.1 localhost",
            "EnableAPIPostDeletion": True,
            "EnableAPIChannelDeletion": True,
            "EnableAPITeamDeletion": True,
            "EnableAPIUserDeletion": True,
            "MaximumLoginAttempts": 1000,
            "EnableSecurityFixAlert": False,
            "EnableLinkPreviews": False,
            "EnablePermalinkPreviews": False,
            "EnableGifPicker": False,
            "EnableOnboardingFlow": False,
            "EnableTutorial": False,
            "EnableLocalMode": False,
            "EnableAWSMetering": False,
            "SplitKey": "",  # feature flags come from config only
        },
        "TeamSettings": {
            "SiteName": "whoknows e2e",
            "EnableUserCreation": True,
            "EnableOpenServer": True,
            "MaxUsersPerTeam": 1000,
        },
        # A small pool: PostgreSQL allows 100 clients, and a server's default pool alone could take them all
        # (two test sessions at once, or a soak restarting the server, then fail with "too many clients").
        "SqlSettings": {"DriverName": "postgres", "DataSource": pg.dsn, "MaxOpenConns": 20, "MaxIdleConns": 10},
        "LogSettings": {
            "EnableConsole": True,
            "ConsoleLevel": "INFO",
            "ConsoleJson": False,
            "EnableColor": False,
            "EnableFile": False,
            "EnableDiagnostics": False,  # telemetry
            "EnableSentry": False,
        },
        "FileSettings": {
            "DriverName": "local",
            "Directory": str(run_dir / "data") + "/",
            "ExtractContent": False,
        },
        "EmailSettings": {
            "SendEmailNotifications": False,
            "RequireEmailVerification": False,
            "SendPushNotifications": False,
            "PushNotificationServer": "",
            "SMTPServer": "127.0.0.1",  # nothing listens: mails the server insists on fail fast
            "EnableSignUpWithEmail": True,
            "EnableSignInWithEmail": True,
            "EnableSignInWithUsername": True,
            "EnablePreviewModeBanner": False,
            "EnableEmailBatching": False,
        },
        "RateLimitSettings": {"Enable": False},
        "AnnouncementSettings": {"AdminNoticesEnabled": False, "UserNoticesEnabled": False},
        "PluginSettings": {
            # Plugins stay off; the plugin tests switch them on over the API for their modules and
            # off again. Uploads can only be allowed here (the API cannot change EnableUploads).
            # Nothing is ever fetched: no marketplace, no prepackaged plugins, no health check.
            "Enable": False,
            "EnableUploads": True,
            "EnableMarketplace": False,
            "EnableRemoteMarketplace": False,
            "AutomaticPrepackagedPlugins": False,
            "EnableHealthCheck": False,
            "Directory": str(run_dir / "plugins"),
            "ClientDirectory": str(run_dir / "client-plugins"),
        },
        "CloudSettings": {"Disable": True},
        "ImageProxySettings": {"Enable": False},
        "MetricsSettings": {"Enable": False},
        "ClusterSettings": {"Enable": False},
        "ConnectedWorkspacesSettings": {
            "EnableSharedChannels": False,
            "EnableRemoteClusterService": False,
        },
        "SupportSettings": {"EnableAskCommunityLink": False},
    }


class MattermostServer:
    """One Mattermost process, restartable on the same port, config and database."""

    def __init__(self, build: Build, run_dir: Path, pg: Postgres, port: int | None = None) -> None:
        self.build = build
        self.run_dir = run_dir
        self.pg = pg
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config_path = run_dir / "config.json"
        self.log_path = run_dir / "mattermost.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._peak_kib: int | None = None
        self._prepare_run_dir()

    def _prepare_run_dir(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        for name in SERVER_ASSETS:
            link = self.run_dir / name
            if not link.exists():
                link.symlink_to(self.build.server_path / name, target_is_directory=True)
        config = server_config(self.run_dir, self.port, self.pg)
        self.config_path.write_text(json.dumps(config, indent=2), encoding="utf-8")

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = START_TIMEOUT_S) -> float:
        """Starts the server and waits for its ping; returns the seconds it took."""
        if self.running:
            raise HarnessError("the Mattermost server is already running")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.run_dir),
            "TMPDIR": os.environ.get("TMPDIR", "/tmp"),
            "LANG": "C.UTF-8",
            # Not read by every server version (they look in the working
            # directory, where the assets are linked) but harmless.
            "MM_SERVER_PATH": str(self.build.server_path),
        }
        began = time.monotonic()
        with self.log_path.open("ab") as log:
            log.write(f"\n=== harness: starting {self.build.binary} on {self.url}\n".encode())
            log.flush()
            self._process = subprocess.Popen(
                [str(self.build.binary), "server", "--config", str(self.config_path)],
                cwd=self.run_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_ready(began + timeout)
        return time.monotonic() - began

    def _wait_ready(self, deadline: float) -> None:
        last_error = "no answer yet"
        with httpx.Client(timeout=5.0) as client:
            while True:
                if not self.running:
                    code = self._process.returncode if self._process else None
                    self._process = None
                    raise HarnessError(
                        f"the Mattermost server exited with {code} before answering its ping\n"
                        + self.log_tail()
                    )
                try:
                    answer = client.get(f"{self.url}/api/v4/system/ping")
                    if answer.status_code == 200:
                        return
                    last_error = f"HTTP {answer.status_code}"
                except httpx.TransportError as error:
                    last_error = repr(error)
                if time.monotonic() > deadline:
                    self.stop()
                    raise HarnessError(
                        f"the Mattermost server did not answer {self.url}/api/v4/system/ping in time "
                        f"(last: {last_error})\n" + self.log_tail()
                    )
                time.sleep(0.25)  # the one bounded readiness poll

    def _vm_hwm_kib(self) -> int | None:
        if self._process is None or not self.running:
            return None
        try:
            status = Path(f"/proc/{self._process.pid}/status").read_text(encoding="utf-8")
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        return None

    def peak_memory_kib(self) -> int | None:
        """Largest VmHWM (peak resident set, KiB) of this server's processes so far."""
        values = [v for v in (self._peak_kib, self._vm_hwm_kib()) if v is not None]
        return max(values) if values else None

    def stop(self, timeout: float = STOP_TIMEOUT_S, *, graceful: bool = True) -> None:
        """SIGTERM, then SIGKILL if the server has not exited after `timeout` s.

        A graceful stop within ~15 s of a start can take that long: the
        server's job watcher sleeps a random part of its 15 s polling interval
        before it first listens for the stop. graceful=False sends SIGKILL at
        once, like a crash (PostgreSQL keeps the data consistent).
        """
        self._peak_kib = self.peak_memory_kib()
        process, self._process = self._process, None
        if process is None:
            return
        how = " (before the stop)"
        if process.poll() is None:
            process.send_signal(signal.SIGTERM if graceful else signal.SIGKILL)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=timeout)
                how = f" (killed: still running {timeout:.0f} s after SIGTERM)"
            else:
                how = "" if graceful else " (killed)"
        with self.log_path.open("ab") as log:
            log.write(f"=== harness: server exited with {process.returncode}{how}\n".encode())

    def restart(self, timeout: float = START_TIMEOUT_S, *, graceful: bool = True) -> float:
        """Stops and starts again on the same port, config and database. After a kill (graceful=False) a start that
        dies before its ping is tried once more, as a supervisor would: Mattermost killed just after a start can leave
        its start-up migration's row being written, and the next start then exits on that duplicate key."""
        self.stop(graceful=graceful)
        try:
            return self.start(timeout)
        except HarnessError:
            if graceful:
                raise
        with self.log_path.open("a", encoding="utf-8") as log:
            log.write("=== harness: the server died while starting after a kill; starting it once more\n")
        return self.start(timeout)

    def log_tail(self, lines: int = 60) -> str:
        try:
            with self.log_path.open(encoding="utf-8", errors="replace") as log:
                tail = deque(log, maxlen=lines)
        except OSError:
            return f"(no log at {self.log_path})"
        return f"--- last {len(tail)} lines of {self.log_path} ---\n" + "".join(tail)
