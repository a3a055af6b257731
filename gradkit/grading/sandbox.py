"""Running a submission's worker isolated by the operating system.

The strongest isolation available is used, and named in every report:

- ``"bubblewrap"`` (Linux, ``bwrap`` from the Debian package ``bubblewrap``):
  new PID, network, IPC and UTS namespaces (no network; no other process is
  visible, so none can be signalled); the system, the Python environment and
  the ``gradkit`` package read-only and nothing else of the file system (no
  solutions, hidden tests, instructor files, other submissions or output
  files); a private ``/tmp`` of bounded size as the only writable place. Run
  as root, the worker drops to an unprivileged user of its own (a uid per
  concurrent slot) before it reads its job; otherwise bubblewrap's user
  namespace maps the caller's user.
- ``"unprivileged user"`` (root without a working bubblewrap): the worker runs
  as an unprivileged uid of its own in a new session; files the grader can
  read may be readable by it.
- ``"none"``: the same user, limits only.

Limits, in every mode: CPU time (so how busy the machine is cannot change a
grade), address space per process and resident memory of all the sandbox's
processes together, the number of processes, the size of a written file. On
a timeout, or past a limit, every process of the sandbox is killed.
"""

import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Isolation", "Limits", "SandboxedProcess", "detect"]

_BASE_UID = 61000  # the uids a root grader gives its sandboxes: 61000 + slot
MPL_CACHE = "/opt/gradkit-matplotlib-cache"  # where a sandbox sees the font cache
_detected = {}
_slots = set()
_slots_lock = threading.Lock()


@dataclass(frozen=True)
class Isolation:
    """How submissions are isolated here: ``kind`` and a one-line ``description``."""

    kind: str
    description: str


@dataclass(frozen=True)
class Limits:
    """Per-submission limits."""

    cpu_seconds: float = 60.0
    memory_mb: int = 2048
    processes: int = 64
    file_mb: int = 64
    tmp_mb: int = 256


def _bwrap_works(bwrap, as_root):
    cmd = [bwrap, *_namespaces(as_root), "--ro-bind", "/", "/", "--proc", "/proc",
           "--dev", "/dev", "true"]
    try:
        return subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _namespaces(as_root):
    if as_root:  # privileged: no user namespace, the worker drops to its own uid
        return ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                "--unshare-cgroup-try", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    return ["--unshare-all", "--disable-userns"]


def detect(prefer=None):
    """The strongest :class:`Isolation` available; ``prefer`` may ask for a weaker one
    (``"user"`` or ``"none"``), e.g. to compare them."""
    key = prefer or "auto"
    if key in _detected:
        return _detected[key]
    as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    bwrap = shutil.which("bwrap")
    if prefer in (None, "bubblewrap") and sys.platform.startswith("linux") and bwrap and \
            _bwrap_works(bwrap, as_root):
        found = Isolation("bubblewrap", "bubblewrap (no network, own PID namespace, "
                          "read-only system, private /tmp" + (", unprivileged user)"
                                                              if as_root else ")"))
    elif as_root and prefer in (None, "bubblewrap", "user") and _user_can_run(_BASE_UID):
        why = "bubblewrap is not installed" if not bwrap else "bubblewrap cannot run here"
        found = Isolation("user", f"unprivileged user and limits only ({why}: install the "
                          "Debian package bubblewrap)")
    else:
        why = ("not requested" if prefer == "none" else
               "bubblewrap is not installed" if not bwrap else "bubblewrap cannot run here")
        if as_root and prefer != "none":
            why += "; this Python cannot run as an unprivileged user: install it where " \
                   "all users can read it"
        found = Isolation("none", f"limits only, same user ({why})")
    _detected[key] = found
    return found


def _user_can_run(uid):
    """True when this Python starts as the unprivileged ``uid`` (not so when it lives in
    a directory only root can enter, such as ``/root``)."""
    def drop():
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)

    try:
        return subprocess.run([sys.executable, "-c", "import gradkit"], preexec_fn=drop,
                              cwd="/", stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=60).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _take_slot():
    with _slots_lock:
        slot = 0
        while slot in _slots:
            slot += 1
        _slots.add(slot)
        return slot


def _free_slot(slot):
    with _slots_lock:
        _slots.discard(slot)


def _python_paths():
    """What the worker's Python needs, read-only: its installation, its environment's
    site-packages, and the gradkit package itself (not the directory around it)."""
    import gradkit

    paths = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix),
             Path(os.path.realpath(sys.executable)).parent.parent,
             Path(gradkit.__file__).resolve().parent}
    for entry in sys.path:
        if entry and ("site-packages" in entry or "dist-packages" in entry) and \
                Path(entry).is_dir():
            paths.add(Path(entry).resolve())
    found = []
    for path in sorted(paths, key=lambda p: len(p.parts)):
        path = path.resolve()
        if any(path == p or p in path.parents for p in found):
            continue
        if path == Path("/") or path.is_relative_to(Path("/usr")):
            continue
        found.append(path)
    return found


def _bwrap_command(bwrap, argv, limits, as_root):
    cmd = [bwrap, *_namespaces(as_root), "--die-with-parent", "--new-session"]
    cmd += ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        path = Path(top)
        if path.is_symlink():
            cmd += ["--symlink", os.readlink(top), top]
        elif path.is_dir():
            cmd += ["--ro-bind", top, top]
    if Path("/etc").is_dir():
        cmd += ["--ro-bind", "/etc", "/etc"]
    # the private /tmp first: a Python environment under /tmp is bound over it, not hidden
    cmd += ["--proc", "/proc", "--dev", "/dev",
            "--perms", "1777", "--size", str(limits.tmp_mb * 1024 * 1024), "--tmpfs", "/tmp"]
    made = set()
    for path in _python_paths():
        for parent in reversed(path.parents):
            if str(parent) not in ("/", "/tmp") and parent not in made and \
                    not str(parent).startswith("/usr"):
                made.add(parent)
                cmd += ["--perms", "0755", "--dir", str(parent)]
        cmd += ["--ro-bind", str(path), str(path)]
    if _matplotlib_cache():
        cmd += ["--ro-bind", _matplotlib_cache(), MPL_CACHE]
    return cmd + ["--chdir", "/tmp", "--"] + argv


_mpl = {}


def _matplotlib_cache():
    """A directory holding matplotlib's font cache, built once per grader process (a
    sandbox's fresh home would otherwise rebuild it for every submission), or None."""
    with _slots_lock:
        if "dir" not in _mpl:
            import tempfile

            path = tempfile.mkdtemp(prefix="gradkit-mpl-")
            os.chmod(path, 0o755)
            try:
                subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"],
                               env={"MPLCONFIGDIR": path, "PATH": os.environ.get("PATH", "")},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               timeout=120, check=True)
                for entry in Path(path).iterdir():
                    os.chmod(entry, 0o644)
                _mpl["dir"] = path
            except (OSError, subprocess.SubprocessError):
                shutil.rmtree(path, ignore_errors=True)
                _mpl["dir"] = None
        return _mpl["dir"]


def _clean_env(home):
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8",
           "MPLBACKEND": "Agg", "MPLCONFIGDIR": f"{home}/.matplotlib",
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
           "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "TMPDIR": home}
    if "VIRTUAL_ENV" in os.environ:
        env["VIRTUAL_ENV"] = os.environ["VIRTUAL_ENV"]
    return env


def _count_user_processes(uid):
    count = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    count += 1
            except OSError:
                continue
    return count


def _children_table():
    """``{ppid: [pid, ...]}`` and ``{pid: (rss bytes, cpu seconds)}`` from /proc."""
    children, usage = {}, {}
    tick = os.sysconf("SC_CLK_TCK")
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                text = handle.read().decode("ascii", "replace")
        except OSError:
            continue
        fields = text[text.rfind(")") + 2:].split()
        try:
            ppid = int(fields[1])
            cpu = (int(fields[11]) + int(fields[12])) / tick
            rss = int(fields[21]) * page
        except (IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
        usage[int(entry)] = (rss, cpu)
    return children, usage


def _pss(pid, rss):
    """The proportional set size of ``pid`` (pages shared after fork counted once in all),
    or its resident size where the kernel does not say."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
            for line in handle:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return rss


def tree(pid):
    """``pid`` and all its descendants, with their total memory (proportional: a page
    that forked processes share counts once) and CPU time."""
    children, usage = _children_table()
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        if p in usage:
            found.append(p)
        todo.extend(children.get(p, ()))
    memory = sum(_pss(p, usage[p][0]) for p in found)
    cpu = sum(usage[p][1] for p in found)
    return found, memory, cpu


class SandboxedProcess:
    """One worker, started isolated: ``stdin``/``stdout`` pipes, :meth:`kill`, and a
    watchdog that kills every process of the sandbox past a limit (``reason`` says which).

    Parameters
    ----------
    argv : list of str
        The command, e.g. ``[sys.executable, "-m", "gradkit.grading.worker"]``.
    limits : Limits
    isolation : Isolation, optional
        Default :func:`detect`.
    """

    def __init__(self, argv, limits, isolation=None):
        self.isolation = isolation or detect()
        self.limits = limits
        self.reason = ""
        self.slot = _take_slot()
        self.uid = None
        self._home = None
        as_root = hasattr(os, "geteuid") and os.geteuid() == 0
        if self.isolation.kind in ("bubblewrap", "user") and as_root:
            self.uid = _BASE_UID + self.slot
        if self.isolation.kind == "bubblewrap":
            home = "/tmp"
            argv = _bwrap_command(shutil.which("bwrap"), argv, limits, as_root)
        else:
            import tempfile

            self._home = tempfile.mkdtemp(prefix="gradkit-sandbox-")
            if self.uid is not None:
                os.chown(self._home, self.uid, self.uid)
            home = self._home
        if self.uid is not None and self.isolation.kind == "bubblewrap":
            argv = argv + ["--as-uid", str(self.uid)]  # the worker drops to it first thing
        env = _clean_env(home)
        if _matplotlib_cache():
            env["GRADKIT_MPL_CACHE"] = (MPL_CACHE if self.isolation.kind == "bubblewrap"
                                        else _matplotlib_cache())
        nproc = limits.processes
        if self.uid is None:  # the count is the user's: allow what already runs
            nproc += _count_user_processes(os.getuid())
        self._nproc = nproc
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            cwd=home, env=env, start_new_session=True, preexec_fn=self._preexec,
            close_fds=True,
        )
        self.stdin, self.stdout = self.proc.stdin, self.proc.stdout
        self._stop = threading.Event()
        self._watch = threading.Thread(target=self._watchdog, daemon=True)
        self._watch.start()

    def _preexec(self):
        limits = self.limits
        cpu = int(limits.cpu_seconds) + 1
        mb = 1024 * 1024
        for what, value in ((resource.RLIMIT_CPU, cpu),
                            (resource.RLIMIT_FSIZE, limits.file_mb * mb),
                            (resource.RLIMIT_CORE, 0)):
            try:
                resource.setrlimit(what, (value, value))
            except (ValueError, OSError):
                pass
        if self.uid is not None or self.isolation.kind == "none":
            try:
                resource.setrlimit(resource.RLIMIT_NPROC, (self._nproc, self._nproc))
            except (ValueError, OSError):
                pass
        if self.isolation.kind == "user" and self.uid is not None:
            os.setgroups([])
            os.setgid(self.uid)
            os.setuid(self.uid)

    def _watchdog(self):
        limit = self.limits.memory_mb * 1024 * 1024
        while not self._stop.wait(0.05):
            if self.proc.poll() is not None:
                return
            found, rss, _ = tree(self.proc.pid)
            if rss > limit:
                self.reason = (f"used more than {self.limits.memory_mb} MB of memory "
                               "in all its processes together")
                self.kill()
                return
            if len(found) > self.limits.processes + 2:  # bwrap and its reaper
                self.reason = f"started more than {self.limits.processes} processes"
                self.kill()
                return

    def kill(self):
        """Kill every process of the sandbox (idempotent)."""
        found, _, _ = tree(self.proc.pid)
        for sig_target in [self.proc.pid] + found:
            try:
                os.kill(sig_target, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.uid is not None and self.isolation.kind == "user":
            _kill_uid(self.uid)

    def close(self):
        """Kill what is left, reap, and free the slot."""
        self._stop.set()
        self.kill()
        for stream in (self.stdin, self.stdout):
            try:
                stream.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        if self._home:
            shutil.rmtree(self._home, ignore_errors=True)
        _free_slot(self.slot)


def _kill_uid(uid):
    """Kill every process of ``uid`` (a sandbox's own user): a daemon that left the session."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgid(uid)
            os.setuid(uid)
            os.kill(-1, signal.SIGKILL)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    time.sleep(0)
