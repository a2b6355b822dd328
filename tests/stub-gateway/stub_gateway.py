#!/usr/bin/env python3
"""Stub gateway: a test double of the Hermes gateway's *process contract* (not the gateway).

It starts like `hermes gateway run`, writes gateway.pid and gateway_state.json the way the gateway does,
honours the planned-stop and takeover markers, reacts to SIGUSR1 / SIGTERM / SIGINT with the gateway's exit
codes (75 / 0 or 1 / 0) and can be told to crash, hang in its drain, fail its start or exit with a given code.
Everything it does is appended to $HERMES_HOME/stub-events.jsonl. Standard library only. See README.md.
"""

import errno
import json
import os
import re
import select
import signal
import sys
import threading
import time
from datetime import datetime, timezone

EX_RESTART = 75  # EX_TEMPFAIL: planned restart through the service manager
EX_CONFIG = 78  # permanent configuration error
EX_STUB_USAGE = 2  # the stub itself was misused (bad command line, bad knob); not part of the contract

MARKER_TTL_SECONDS = 60.0
PLANNED_STOP_MARKER = ".gateway-planned-stop.json"
TAKEOVER_MARKER = ".gateway-takeover.json"
CONTROL_FILE = "stub-control.json"
EVENT_LOG = "stub-events.jsonl"

MODES = ("normal", "crash", "hang_in_drain", "fail_start", "config_error", "exit")

# name: (parser, default). Read from HERMES_STUB_<NAME> and then from stub-control.json (the file wins).
KNOBS = {
    "mode": (str, "normal"),
    "start_seconds": (float, 0.1),
    "drain_seconds": (float, 0.2),
    "crash_after_seconds": (float, 0.5),
    "exit_after_seconds": (float, 0.0),
    "exit_code": (int, 0),
    "watchdog_seconds": (float, 3600.0),
    "marker_poll_seconds": (float, 0.5),
    "core_dump": (bool, False),
    "echo": (bool, True),
}


class StubError(Exception):
    """The stub was misconfigured: reported and ended with EX_STUB_USAGE, never mistaken for a contract code."""


def utc_now_iso():
    return datetime.now(timezone.utc).isoformat()


ISO_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?)(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$", re.IGNORECASE)


def parse_utc_time(value):
    """An ISO-8601 time as any writer spells it (Z, any number of fractional digits); naive means UTC. None if not."""
    if not isinstance(value, str):
        return None
    match = ISO_TIME.match(value.strip())
    if not match:
        return None
    whole, fraction, zone = match.groups()
    text = whole
    if fraction:
        text += "." + (fraction + "000000")[:6]
    if zone and zone.upper() != "Z":
        text += zone if ":" in zone else zone[:3] + ":" + zone[3:]
    else:
        text += "+00:00"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def parse_bool(value):
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("not a boolean: %r" % (value,))


def parse_knob(name, value):
    kind = KNOBS[name][0]
    if kind is bool:
        return parse_bool(value)
    if isinstance(value, bool):
        raise ValueError("%s: a boolean is not a number" % name)
    if kind is int:
        if isinstance(value, float) and not value.is_integer():
            raise ValueError("%s: not an integer: %r" % (name, value))
        return int(value)
    if kind is float:
        number = float(value)
        if number != number or number < 0:
            raise ValueError("%s: must be a number >= 0: %r" % (name, value))
        return number
    return str(value)


# ---------------------------------------------------------------------------------------------------- command line


def parse_command_line(argv):
    """`[--profile P] gateway run [--external-supervisor]`; unknown flags are ignored, as a unit may pass more."""
    profile = None
    external_supervisor = False
    positionals = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--profile":
            if i + 1 >= len(argv):
                raise StubError("--profile needs a value")
            profile = argv[i + 1]
            i += 2
            continue
        if arg.startswith("--profile="):
            profile = arg.split("=", 1)[1]
        elif arg == "--external-supervisor":
            external_supervisor = True
        elif arg.startswith("-"):
            pass  # unknown flag: ignored
        else:
            positionals.append(arg)
        i += 1
    # `gateway` followed (not necessarily at once) by `run`, so `python -m hermes_cli.main` style prefixes and
    # values of unknown flags do not matter.
    if "gateway" not in positionals or "run" not in positionals[positionals.index("gateway") + 1:]:
        raise StubError("usage: stub_gateway.py [--profile P] gateway run [--external-supervisor]")
    return profile, external_supervisor


def resolve_home(profile):
    home = os.environ.get("HERMES_HOME")
    if home:
        return os.path.abspath(os.path.expanduser(home))
    base = os.path.join(os.path.expanduser("~"), ".hermes")
    if profile and profile != "default":
        return os.path.join(base, "profiles", profile)
    return base


def is_supervised(external_supervisor_flag):
    if external_supervisor_flag:
        return True
    if os.environ.get("INVOCATION_ID"):
        return True
    xpc = os.environ.get("XPC_SERVICE_NAME")
    if xpc and xpc != "0":
        return True
    return os.environ.get("HERMES_GATEWAY_EXTERNAL_SUPERVISOR", "").strip().lower() in ("1", "true", "yes", "on")


def process_start_time(pid):
    """Field 22 of /proc/<pid>/stat (clock ticks since boot) on Linux; None elsewhere."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as handle:
            text = handle.read().decode("ascii", "replace")
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: fields restart after the last ')'.
    rest = text[text.rfind(")") + 2:].split()
    try:
        return int(rest[22 - 3])
    except (IndexError, ValueError):
        return None


# ------------------------------------------------------------------------------------------------------ files


def atomic_write_json(path, data):
    directory = os.path.dirname(path)
    temp = os.path.join(directory, ".%s.tmp.%d.%d" % (os.path.basename(path), os.getpid(), threading.get_ident()))
    with open(temp, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)


class Stub:
    def __init__(self, home, argv, profile, supervised):
        self.home = home
        self.argv = argv
        self.profile = profile
        self.supervised = supervised
        self.pid = os.getpid()
        self.start_time = process_start_time(self.pid)
        self.log_lock = threading.Lock()
        self.marker_lock = threading.Lock()  # one reader consumes a marker at a time
        self.exit_lock = threading.Lock()  # the main loop and the watchdog: whoever ends the process first
        self.seq = 0
        self.echo = os.environ.get("HERMES_STUB_ECHO", "1").strip().lower() not in ("0", "false", "no", "off")
        self.state = None
        self.exit_reason = None
        self.restart_requested = False
        self.pending_signals = []  # appended by signal handlers only
        self.watcher_match = None  # set by the watcher thread only
        self.stopping = threading.Event()  # set once a stop/restart is decided; ends the watcher
        self.wake_r, self.wake_w = os.pipe()
        for fd in (self.wake_r, self.wake_w):
            os.set_blocking(fd, False)

    def path(self, name):
        return os.path.join(self.home, name)

    # ---- event log

    def event(self, name, **fields):
        with self.log_lock:
            self.seq += 1
            record = {"seq": self.seq, "time": time.time(), "utc": utc_now_iso(), "pid": self.pid, "event": name}
            record.update(fields)
            line = json.dumps(record) + "\n"
            fd = os.open(self.path(EVENT_LOG), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line.encode("utf-8"))
            finally:
                os.close(fd)
            if self.echo:
                try:
                    sys.stderr.write("stub-gateway[%d]: %s" % (self.pid, line))
                    sys.stderr.flush()
                except (OSError, ValueError):
                    pass

    # ---- gateway.pid and gateway_state.json

    def write_pid_file(self):
        atomic_write_json(self.path("gateway.pid"), {
            "pid": self.pid,
            "kind": "hermes-gateway",
            "argv": self.argv,
            "start_time": self.start_time,
            "hermes_home": self.home,
        })

    def remove_pid_file(self):
        """Only when it still names this process: a replacement may have written its own."""
        path = self.path("gateway.pid")
        try:
            with open(path, encoding="utf-8") as handle:
                if json.load(handle).get("pid") != self.pid:
                    return
            os.unlink(path)
        except (OSError, ValueError, AttributeError):
            pass

    def set_state(self, state, **details):
        self.state = state
        atomic_write_json(self.path("gateway_state.json"), {
            "gateway_state": state,
            "pid": self.pid,
            "start_time": self.start_time,
            "exit_reason": self.exit_reason,
            "restart_requested": self.restart_requested,
            "updated_at": utc_now_iso(),
        })
        self.event("state", state=state, **details)

    # ---- markers

    def check_marker(self, name, by, only_if_match=False):
        """Reads one marker: consumes it when it names this process; deletes it when stale or malformed.

        Returns (matched, reason). With only_if_match the outcome is logged only for a match or a deletion
        (the watcher polls twice a second and must not flood the log)."""
        path = self.path(name)
        kind = "planned-stop" if name == PLANNED_STOP_MARKER else "takeover"
        with self.marker_lock:
            try:
                with open(path, encoding="utf-8") as handle:
                    raw = handle.read()
            except FileNotFoundError:
                if not only_if_match:
                    self.event("marker", kind=kind, by=by, matched=False, reason="absent")
                return False, "absent"
            except OSError as error:
                if not only_if_match:
                    self.event("marker", kind=kind, by=by, matched=False, reason="unreadable: %s" % error)
                return False, "unreadable"
            matched, reason, delete = self.judge_marker(raw)
            deleted = False
            if delete:
                try:
                    os.unlink(path)
                    deleted = True
                except FileNotFoundError:
                    pass
            if matched or deleted or not only_if_match:
                self.event("marker", kind=kind, by=by, matched=matched, reason=reason, deleted=deleted)
            return matched, reason

    def judge_marker(self, raw):
        """(matched, reason, delete) for a marker's text, by the gateway's rules."""
        try:
            data = json.loads(raw)
        except ValueError:
            return False, "malformed: not JSON", True
        if not isinstance(data, dict):
            return False, "malformed: not an object", True
        target_pid = data.get("target_pid")
        if not isinstance(target_pid, int) or isinstance(target_pid, bool):
            return False, "malformed: target_pid is not an integer", True
        target_start = data.get("target_start_time")
        if target_start is not None and (not isinstance(target_start, int) or isinstance(target_start, bool)):
            return False, "malformed: target_start_time is neither an integer nor null", True
        written = parse_utc_time(data.get("written_at"))
        if written is None:
            return False, "malformed: written_at is not an ISO-8601 time", True
        age = (datetime.now(timezone.utc) - written).total_seconds()
        if age > MARKER_TTL_SECONDS:
            return False, "stale: written %.1f s ago" % age, True
        if target_pid != self.pid:
            return False, "names pid %d" % target_pid, False
        if target_start is not None and self.start_time is not None and target_start != self.start_time:
            return False, "start time %d is not %d" % (target_start, self.start_time), False
        return True, "names this process", True

    # ---- threads

    def wake(self):
        try:
            os.write(self.wake_w, b"w")
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.EWOULDBLOCK):
                raise

    def watch_markers(self, interval):
        """The gateway's watcher: a planned-stop marker naming this process starts a planned stop, signal or not."""
        while not self.stopping.wait(interval):
            try:
                matched, _ = self.check_marker(PLANNED_STOP_MARKER, by="watcher", only_if_match=True)
            except Exception as error:  # noqa: BLE001 - a watcher must not die of a bad file
                self.event("stub_error", message="watcher: %r" % (error,))
                continue
            if matched:
                self.watcher_match = True
                self.wake()
                return

    def watchdog(self, seconds):
        """Ends a shutdown that did not finish in time with exit 1, as the gateway's own watchdog does."""
        time.sleep(seconds)
        if not self.exit_lock.acquire(blocking=False):
            return
        self.event("watchdog", after_seconds=seconds)
        self.exit_reason = "shutdown watchdog: drain did not finish within %g s" % seconds
        self.finish(1, self.exit_reason, locked=True)

    # ---- ending

    def finish(self, code, reason, locked=False, state="stopped"):
        if not locked and not self.exit_lock.acquire(blocking=False):
            while True:  # the watchdog is ending the process
                time.sleep(3600)
        try:
            if self.state != state:
                self.set_state(state)
            self.remove_pid_file()
            self.event("exit", code=code, reason=reason)
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            except (OSError, ValueError):
                pass
            os._exit(code)

    def crash(self, core_dump):
        """Dies of a real SIGSEGV: no faulthandler, default disposition, nothing written after the event."""
        import faulthandler
        faulthandler.disable()
        if not core_dump:
            try:
                import resource
                _, hard = resource.getrlimit(resource.RLIMIT_CORE)
                resource.setrlimit(resource.RLIMIT_CORE, (0, hard))
            except (ImportError, ValueError, OSError):
                pass
        self.event("crash", signal="SIGSEGV", core_dump=core_dump)
        signal.signal(signal.SIGSEGV, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGSEGV})
        os.kill(self.pid, signal.SIGSEGV)
        time.sleep(5)
        self.event("stub_error", message="SIGSEGV did not end the process")
        os._exit(70)


# ---------------------------------------------------------------------------------------------------- knobs


def read_control_file(home):
    path = os.path.join(home, CONTROL_FILE)
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return None
    try:
        data = json.loads(text) if text.strip() else {}
    except ValueError as error:
        raise StubError("%s is not JSON: %s" % (path, error))
    if not isinstance(data, dict):
        raise StubError("%s is not a JSON object" % path)
    return data


def load_knobs(home):
    """Knobs from HERMES_STUB_<NAME>, then the control file (which wins); takes one failed start if owed.

    Returns (knobs, fail_this_start, fail_next_starts_left). The counter is read and decremented under an
    exclusive lock and written back with temp + rename, so concurrent starts never both take the same one."""
    knobs = {}
    for name, (_, default) in KNOBS.items():
        knobs[name] = default
        env = os.environ.get("HERMES_STUB_" + name.upper())
        if env is not None and env != "":
            try:
                knobs[name] = parse_knob(name, env)
            except ValueError as error:
                raise StubError("HERMES_STUB_%s: %s" % (name.upper(), error))

    fail_this_start = False
    left = None
    if not os.path.exists(os.path.join(home, CONTROL_FILE)):
        return check_mode(knobs), fail_this_start, left
    lock_path = os.path.join(home, CONTROL_FILE + ".lock")
    lock_fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            import fcntl
            fcntl.flock(lock_fd, fcntl.LOCK_EX)
        except ImportError:
            pass
        control = read_control_file(home)
        if control is not None:
            for name, value in control.items():
                if name in KNOBS:
                    try:
                        knobs[name] = parse_knob(name, value)
                    except (TypeError, ValueError) as error:
                        raise StubError("%s: %s" % (CONTROL_FILE, error))
            owed = control.get("fail_next_starts", 0)
            if not isinstance(owed, int) or isinstance(owed, bool) or owed < 0:
                raise StubError("%s: fail_next_starts must be an integer >= 0" % CONTROL_FILE)
            if owed > 0:
                fail_this_start = True
                left = owed - 1
                control["fail_next_starts"] = left
                atomic_write_json(os.path.join(home, CONTROL_FILE), control)
    finally:
        os.close(lock_fd)  # releases the lock

    return check_mode(knobs), fail_this_start, left


def check_mode(knobs):
    if knobs["mode"] not in MODES:
        raise StubError("mode must be one of %s, not %r" % (", ".join(MODES), knobs["mode"]))
    return knobs


# ------------------------------------------------------------------------------------------------------ main


SIGNAL_NAMES = {signal.SIGUSR1: "SIGUSR1", signal.SIGTERM: "SIGTERM", signal.SIGINT: "SIGINT"}


def run(stub, knobs, fail_this_start, fail_left):
    mode = knobs["mode"]
    hang = mode == "hang_in_drain"
    stub.event("started", argv=stub.argv, hermes_home=stub.home, profile=stub.profile, supervised=stub.supervised,
               start_time=stub.start_time, knobs=knobs, fail_this_start=fail_this_start, fail_next_starts_left=fail_left)
    stub.write_pid_file()
    stub.set_state("starting")

    if knobs["marker_poll_seconds"] > 0:
        threading.Thread(target=stub.watch_markers, args=(knobs["marker_poll_seconds"],), daemon=True,
                         name="marker-watcher").start()

    began = time.monotonic()
    running_since = None
    drain_until = None  # set once draining; None with hang_in_drain (never finishes)
    outcome = None  # (exit code, reason) decided when a stop or restart is asked for

    def begin_drain(code, reason, restart):
        nonlocal drain_until, outcome
        outcome = (code, reason)
        stub.stopping.set()
        stub.restart_requested = restart
        stub.exit_reason = reason
        stub.set_state("draining", reason=reason, restart=restart, exit_code=code,
                       drain_seconds=None if hang else knobs["drain_seconds"])
        drain_until = None if hang else time.monotonic() + knobs["drain_seconds"]
        threading.Thread(target=stub.watchdog, args=(knobs["watchdog_seconds"],), daemon=True,
                         name="shutdown-watchdog").start()

    while True:
        # Signals: the handlers only queued their numbers; all the work happens here.
        while stub.pending_signals:
            signum = stub.pending_signals.pop(0)
            name = SIGNAL_NAMES.get(signum, str(signum))
            if outcome is not None:
                stub.event("signal", signal=name, action="ignored: already stopping")
                continue
            if signum == signal.SIGUSR1:
                stub.event("signal", signal=name, action="restart")
                begin_drain(EX_RESTART, "restart requested (SIGUSR1)", True)
            elif signum == signal.SIGINT:
                stub.event("signal", signal=name, action="planned stop")
                begin_drain(0, "planned stop (SIGINT)", False)
            elif signum == signal.SIGTERM:
                stub.event("signal", signal=name, action="stop")
                planned, _ = stub.check_marker(PLANNED_STOP_MARKER, by="sigterm")
                if planned:
                    begin_drain(0, "planned stop (SIGTERM with planned-stop marker)", False)
                    continue
                takeover, _ = stub.check_marker(TAKEOVER_MARKER, by="sigterm")
                if takeover:
                    begin_drain(0, "takeover (SIGTERM with takeover marker)", False)
                else:
                    begin_drain(1, "SIGTERM without a planned-stop marker", False)
        if stub.watcher_match and outcome is None:
            begin_drain(0, "planned stop (planned-stop marker seen by the watcher)", False)

        now = time.monotonic()
        if outcome is None and stub.state == "starting" and now - began >= knobs["start_seconds"]:
            if mode == "config_error":
                stub.exit_reason = "configuration error (stub mode config_error)"
                stub.finish(EX_CONFIG, stub.exit_reason, state="startup_failed")
            if mode == "fail_start" or fail_this_start:
                stub.exit_reason = "startup failed (stub %s)" % ("mode fail_start" if mode == "fail_start"
                                                                  else "fail_next_starts")
                stub.finish(1, stub.exit_reason, state="startup_failed")
            stub.set_state("running")
            running_since = now
        if outcome is None and running_since is not None:
            if mode == "crash" and now - running_since >= knobs["crash_after_seconds"]:
                stub.crash(knobs["core_dump"])
            if mode == "exit" and now - running_since >= knobs["exit_after_seconds"]:
                stub.exit_reason = "stub mode exit"
                stub.finish(knobs["exit_code"], stub.exit_reason)
        if outcome is not None and drain_until is not None and now >= drain_until:
            stub.finish(outcome[0], outcome[1])

        # Sleep until the next deadline, a signal (wakeup fd) or the watcher (same pipe).
        deadlines = []
        if outcome is None and stub.state == "starting":
            deadlines.append(began + knobs["start_seconds"])
        if outcome is None and running_since is not None:
            if mode == "crash":
                deadlines.append(running_since + knobs["crash_after_seconds"])
            if mode == "exit":
                deadlines.append(running_since + knobs["exit_after_seconds"])
        if drain_until is not None:
            deadlines.append(drain_until)
        timeout = max(0.0, min(deadlines) - time.monotonic()) if deadlines else 1.0
        try:
            ready, _, _ = select.select([stub.wake_r], [], [], min(timeout, 1.0))
        except InterruptedError:
            ready = []
        if ready:
            try:
                while os.read(stub.wake_r, 512):
                    pass
            except OSError:
                pass


def main(argv):
    try:
        profile, external_supervisor = parse_command_line(argv[1:])
    except StubError as error:
        sys.stderr.write("stub-gateway: %s\n" % error)
        return EX_STUB_USAGE
    home = resolve_home(profile)
    os.makedirs(home, exist_ok=True)
    stub = Stub(home, list(argv), profile, is_supervised(external_supervisor))

    # Handlers first (before any file says this process exists); they only queue the signal number.
    def on_signal(signum, _frame):
        stub.pending_signals.append(signum)

    signal.set_wakeup_fd(stub.wake_w, warn_on_full_buffer=False)
    for signum in SIGNAL_NAMES:
        signal.signal(signum, on_signal)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)  # the gateway has no SIGHUP handler: it dies of it

    try:
        knobs, fail_this_start, fail_left = load_knobs(home)
    except (StubError, OSError) as error:
        stub.event("stub_error", message=str(error))
        sys.stderr.write("stub-gateway: %s\n" % error)
        return EX_STUB_USAGE
    stub.echo = knobs["echo"]
    run(stub, knobs, fail_this_start, fail_left)
    return 0  # not reached: run() ends the process


if __name__ == "__main__":
    sys.exit(main(sys.argv))
