"""Cell leases: at most one process trains a cell at a time, across processes, executors and
hosts that share one runs directory.

A lease is the file ``lease.json`` in the cell's run directory, naming its holder (host,
boot id, pid and the process's start time, a random token, an optional ``owner`` shared by
the retries of one Ray task). It is created with the classic NFS-safe recipe: the content is
written to a uniquely named temporary file beside it, which is then hard-linked to
``lease.json``. ``link(2)`` is atomic and fails if the name exists, on local filesystems and
on NFS alike, and the lease appears complete or not at all (``O_CREAT|O_EXCL`` is used
instead where hard links are not supported). We do not use ``fcntl``/``flock`` locks (nor
libraries built on them such as ``filelock``): on several cluster filesystems (Lustre
mounted ``localflock``, some FUSE and SMB mounts) they silently lock per node only, and a
lock is invisible to ``bench status``.

The holder refreshes the lease's modification time every :data:`heartbeat_seconds` from a
daemon thread, checking first that the file still carries its token; a holder that finds
another token has lost the cell (see below) and stops without writing to it.

A lease is **stale**, and is taken over by the next ``bench run`` that wants the cell, when

- its holder ran on this host (same hostname and boot id) and that process is gone (its pid
  is dead, a zombie, or now another process: start times differ); a live process on this
  host keeps its lease however long it is silent (hosts are told apart by hostname: containers
  that share a hostname must share a pid namespace too);
- its holder ran on another host (or this one before a reboot) and its heartbeat is older
  than :func:`stale_seconds` (default 300 s, ``$BENCH_LEASE_TIMEOUT``): that host died, hung
  or lost the shared filesystem. Clocks of the hosts and the file server must agree to well
  within that time;
- it was taken by an earlier attempt of the same Ray task (same ``owner``): Ray retries a
  task only once its worker is dead.

Taking over is race-safe: the taker first creates ``lease.break`` exclusively (so one
process breaks at a time), reads the lease again and, if it still carries the stale token,
renames it aside, checks the token of what it moved (putting it back should it be a new
holder's), deletes it, and only then competes for the lease by exclusive creation like
anyone else. Whoever wins trains; the others leave the cell to it.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import socket
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.store import file_mode

LEASE, BREAK = "lease.json", "lease.break"
#: a ``lease.break`` older than this was left by a process that died while breaking a lease
BREAK_STALE_SECONDS = 60.0


def stale_seconds() -> float:
    """Seconds without a heartbeat after which another host's lease is stale."""
    try:
        return float(os.environ.get("BENCH_LEASE_TIMEOUT", "300"))
    except ValueError:
        return 300.0


def heartbeat_seconds() -> float:
    """How often a holder refreshes its lease: a tenth of the timeout, at most 30 s."""
    return max(0.2, min(30.0, stale_seconds() / 10))


def boot_id() -> str:
    """This host's boot id (Linux; empty elsewhere): a host that rebooted is another host."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def process_start(pid: int) -> int | None:
    """Start time of process ``pid`` (clock ticks after boot, Linux), None if unknown."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def process_alive(pid: int, start: int | None = None) -> bool:
    """Whether process ``pid`` of this host runs (not a zombie) and, given ``start``, is the
    process that started then (not another one that got the pid later)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        if state in ("Z", "X"):
            return False
    except (OSError, IndexError):
        pass
    now = process_start(pid)
    return start is None or now is None or now == start


@dataclass(frozen=True)
class Holder:
    """Who holds a cell's lease, as read from ``lease.json``.

    :param age: seconds since its last heartbeat (the file's modification time)
    """

    host: str
    pid: int
    token: str
    owner: str | None
    acquired_at: float
    age: float
    boot_id: str = ""
    start: int | None = None

    @property
    def here(self) -> bool:
        """Held by a process of this host (since its last boot)."""
        return self.host == socket.gethostname() and (not self.boot_id or self.boot_id == boot_id())

    def stale(self, owner: str | None = None) -> bool:
        """Whether the holder is gone (see the module docstring); ``owner``: the caller's."""
        if owner is not None and self.owner == owner:
            return True
        if self.here:
            return not process_alive(self.pid, self.start)
        return self.age > stale_seconds()

    def describe(self) -> str:
        return f"{self.host} pid {self.pid}"


def read_holder(d: Path, name: str = LEASE) -> Holder | None:
    """The holder of the lease in run directory ``d`` (None: no lease). A lease that cannot
    be parsed (a torn ``O_EXCL`` write) counts as held by an unknown process of another host,
    so it becomes stale after the timeout."""
    path = Path(d) / name
    try:
        st = os.stat(path)
        text = path.read_text()
    except FileNotFoundError:
        return None
    age = time.time() - st.st_mtime
    try:
        data = json.loads(text)
        return Holder(host=str(data["host"]), pid=int(data["pid"]), token=str(data["token"]),
                      owner=data.get("owner"), acquired_at=float(data["acquired_at"]), age=age,
                      boot_id=str(data.get("boot_id", "")), start=data.get("start"))
    except (ValueError, KeyError, TypeError):
        return Holder(host="?", pid=0, token=f"unreadable-{st.st_ino}-{st.st_mtime_ns}", owner=None,
                      acquired_at=st.st_mtime, age=age)


def state(d: Path) -> tuple[str, Holder | None]:
    """("free" | "held" | "stale", holder) of the lease in run directory ``d``."""
    h = read_holder(d)
    if h is None:
        return "free", None
    return ("stale" if h.stale() else "held"), h


def _create(path: Path, content: bytes) -> bool:
    """Create ``path`` holding ``content`` if it does not exist; True if this call created it."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), file_mode())
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
            return True
        except FileExistsError:
            # NFS: a retransmitted link whose first reply was lost reports EEXIST although
            # it succeeded; the link count of our own file tells
            return os.stat(tmp).st_nlink == 2
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS):
                raise
        try:  # no hard links on this filesystem
            fd2 = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, file_mode())
        except FileExistsError:
            return False
        with os.fdopen(fd2, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        return True
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass


def _break(d: Path, stale: Holder) -> None:
    """Remove the lease of ``stale`` holder from ``d`` unless it changed meanwhile."""
    brk = d / BREAK
    if not _create(brk, f"{socket.gethostname()} {os.getpid()}\n".encode()):
        try:  # another process is breaking it now, or died doing so
            if time.time() - os.stat(brk).st_mtime > BREAK_STALE_SECONDS:
                os.unlink(brk)
        except FileNotFoundError:
            pass
        return
    try:
        current = read_holder(d)
        if current is None or current.token != stale.token:
            return  # released, or broken and taken since we looked
        aside = d / f".{LEASE}.stale.{secrets.token_hex(8)}"
        try:
            os.rename(d / LEASE, aside)
        except FileNotFoundError:
            return
        moved = read_holder(d, aside.name)
        if moved is not None and moved.token != stale.token:  # a new holder's: put it back
            try:
                os.link(aside, d / LEASE)
            except OSError:
                pass
        os.unlink(aside)
    finally:
        try:
            os.unlink(brk)
        except FileNotFoundError:
            pass


class LeaseLost(Exception):
    """Another process took this process's lease over (it was judged dead)."""


class Lease:
    """A lease held by this process on run directory ``d``; see :func:`acquire`."""

    def __init__(self, d: Path, token: str, took_over: Holder | None):
        self.dir, self.token = Path(d), token
        #: the stale holder this lease replaced (None: the cell was free)
        self.took_over = took_over
        self.lost = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def path(self) -> Path:
        return self.dir / LEASE

    def held(self) -> bool:
        """Whether ``lease.json`` still carries this lease's token."""
        h = read_holder(self.dir)
        if h is None or h.token != self.token:
            self.lost = True
        return not self.lost

    def heartbeat(self) -> None:
        """Refresh the lease (its modification time) if still held; else mark it lost."""
        if self.held():
            try:
                os.utime(self.path)
            except FileNotFoundError:
                self.lost = True

    def check(self) -> None:
        """Raise :class:`LeaseLost` if another process took the lease over."""
        if self.lost or not self.held():
            raise LeaseLost(f"{self.dir}: another process took over this cell (this one was judged dead)")

    def start_heartbeat(self) -> "Lease":
        def beat() -> None:
            while not self._stop.wait(heartbeat_seconds()):
                try:
                    self.heartbeat()
                except OSError:
                    pass  # a transient filesystem error; the next beat tries again

        self._thread = threading.Thread(target=beat, name="bench-lease-heartbeat", daemon=True)
        self._thread.start()
        return self

    def release(self) -> None:
        """Stop the heartbeat and delete the lease if it is still this process's."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            if not self.lost and self.held():
                os.unlink(self.path)
        except OSError:
            pass

    def __enter__(self) -> "Lease":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


def acquire(d: Path, owner: str | None = None, heartbeat: bool = True) -> Lease | Holder:
    """Take the lease of run directory ``d``: a :class:`Lease` (its heartbeat running when
    ``heartbeat``), or the live :class:`Holder` that has it.

    :param owner: an id shared by the attempts of one task (a Ray retry takes over the lease
        of its dead predecessor at once)
    """
    d = Path(d)
    d.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(16)
    content = json.dumps({"host": socket.gethostname(), "boot_id": boot_id(), "pid": os.getpid(),
                          "start": process_start(os.getpid()), "token": token, "owner": owner,
                          "acquired_at": time.time()}, indent=2).encode() + b"\n"
    took_over: Holder | None = None
    for _ in range(20):
        if _create(d / LEASE, content):
            lease = Lease(d, token, took_over)
            return lease.start_heartbeat() if heartbeat else lease
        h = read_holder(d)
        if h is None:
            continue  # released meanwhile: try again
        if not h.stale(owner):
            return h
        took_over = h
        _break(d, h)
        time.sleep(0.01)
    h = read_holder(d)
    if h is not None:
        return h
    raise OSError(errno.EAGAIN, f"{d}: could not take the cell's lease (contended)")
