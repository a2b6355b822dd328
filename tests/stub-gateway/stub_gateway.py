#!/usr/bin/env python3
"""Stub gateway: a test double of the Hermes gateway's *process contract* (not the gateway).

It starts like `hermes gateway run`, writes gateway.pid and gateway_state.json the way the gateway does,
honours the planned-stop and takeover markers, reacts to SIGUSR1 / SIGTERM / SIGINT with the gateway's exit
codes (75 / 0 or 1 / 0) and can be told to crash, hang in its drain, fail its start or exit with a given code.
Everything it does is appended to $HERMES_HOME/stub-events.jsonl. Standard library only. See README.md.

The knob `contract` (HERMES_STUB_CONTRACT or stub-control.json) picks the contract: "documented" (the default, the
contract above) or "hermes-0.16", the process contract of the released Hermes Agent 0.16.0 as measured in
docs/hermes-0.16-contract.md (no 78, SIGUSR1 exits 0 under systemd, no watchdog, argparse exit 2, ...).
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


def flush_and_exit(code):
    """Flushes stdout and stderr where they still can be, then ends the process at once: no handlers, no atexit."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os._exit(code)


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
            flush_and_exit(code)

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


def sleep_until_next(stub, deadlines):
    """Sleeps until the earliest deadline (at most 1 s), a signal (wakeup fd) or the watcher (same pipe)."""
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


def next_deadlines(knobs, stopping, starting, began, running_since, drain_until):
    """The run loops' deadlines: the end of start-up and a running stub's crash or exit (none of them once a stop or
    restart began), and the end of the drain."""
    deadlines = []
    if not stopping and starting:
        deadlines.append(began + knobs["start_seconds"])
    if not stopping and running_since is not None:
        if knobs["mode"] == "crash":
            deadlines.append(running_since + knobs["crash_after_seconds"])
        if knobs["mode"] == "exit":
            deadlines.append(running_since + knobs["exit_after_seconds"])
    if drain_until is not None:
        deadlines.append(drain_until)
    return deadlines


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
        sleep_until_next(stub, next_deadlines(knobs, outcome is not None, stub.state == "starting", began,
                                              running_since, drain_until))


# ------------------------------------------------------------------------------------------ contract hermes-0.16
#
# `contract: hermes-0.16` reproduces the process contract of the released gateway, Hermes Agent 0.16.0, as measured
# in docs/hermes-0.16-contract.md. Source references are to that release (run.py = gateway/run.py, status.py =
# gateway/status.py, cli/gateway.py = hermes_cli/gateway.py). Nothing above this line changes in the default mode.

CONTRACT_DOCUMENTED = "documented"
CONTRACT_016 = "hermes-0.16"
CONTRACTS = (CONTRACT_DOCUMENTED, CONTRACT_016)

GATEWAY_SERVICE_RESTART_EXIT_CODE = 75  # gateway/restart.py:7; 0.16 has no 78
PROFILE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
RESERVED_PROFILE_NAMES = frozenset({"hermes", "default", "test", "tmp", "root", "sudo"})
PROFILE_VALUE_FLAGS = {"-z", "--oneshot", "-m", "--model", "--provider", "-t", "--toolsets", "-r", "--resume", "-s",
                       "--skills"}
PROFILE_OPTIONAL_VALUE_FLAGS = {"-c", "--continue"}
# status.py _looks_like_gateway_process / _record_looks_like_gateway, plus this script so that stubs see each other.
GATEWAY_CMDLINE_PATTERNS = ("hermes_cli.main gateway", "hermes_cli/main.py gateway", "hermes gateway", "hermes-gateway",
                            "gateway/run.py", "stub_gateway.py")
GATEWAY_RECORD_PATTERNS = ("hermes_cli.main gateway", "hermes_cli/main.py gateway", "hermes gateway", "gateway/run.py",
                           "stub_gateway.py")
_UNSET = object()


def early_contract(args):
    """The `contract` knob, decided before the command line is parsed (it decides how the command line is parsed).

    HERMES_STUB_CONTRACT, then a "contract" key in the stub-control.json of the home the documented rules give
    (HERMES_HOME if set); the file wins. Only reads: a control file that cannot be read here is reported by load_knobs.
    Raises StubError (with .home, where the stub_error event goes) for a value that is not a contract."""
    env = os.environ.get("HERMES_STUB_CONTRACT", "")
    contract = env.strip() if env.strip() else CONTRACT_DOCUMENTED
    try:
        profile, _ = parse_command_line(args)
    except StubError:
        profile = None
    home = resolve_home(profile)
    try:
        control = read_control_file(home)
    except (StubError, OSError, ValueError):
        control = None
    if control is not None and "contract" in control:
        contract = control["contract"]
    if contract not in CONTRACTS:
        error = StubError("contract must be one of %s, not %r" % (", ".join(CONTRACTS), contract))
        error.home = home
        raise error
    return contract


class ProfileError(Exception):
    """hermes_cli/main.py prints "Error: <message>" on stderr and exits 1."""


def default_hermes_root_016():
    """hermes_constants.get_default_hermes_root(): ~/.hermes, or HERMES_HOME (or its grandparent for .../profiles/X)
    when HERMES_HOME is outside ~/.hermes."""
    from pathlib import Path
    native = Path.home() / ".hermes"
    env_home = os.environ.get("HERMES_HOME", "")
    if not env_home:
        return native
    env_path = Path(env_home)
    try:
        env_path.resolve().relative_to(native.resolve())
        return native
    except ValueError:
        pass
    if env_path.parent.name == "profiles":
        return env_path.parent.parent
    return env_path


def apply_profile_override_016(args):
    """hermes_cli/main.py _apply_profile_override (main.py:389-500), without the sudo fallback.

    Returns (args without the profile flag, canonical profile name or None) and sets HERMES_HOME to the profile's
    directory. Raises ProfileError for an invalid, reserved or missing profile (the caller exits 1)."""
    from pathlib import Path
    profile_name, consume, index = None, 0, None
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            break
        if arg in ("--profile", "-p") and i + 1 < len(args):
            profile_name, consume, index = args[i + 1], 2, i
            break
        if arg.startswith("--profile="):
            profile_name, consume, index = arg.split("=", 1)[1], 1, i
            break
        if "=" not in arg and arg in PROFILE_VALUE_FLAGS and i + 1 < len(args):
            i += 2
        elif ("=" not in arg and arg in PROFILE_OPTIONAL_VALUE_FLAGS and i + 1 < len(args)
              and not args[i + 1].startswith("-")):
            i += 2
        else:
            i += 1
    if profile_name is not None and consume == 2 and not PROFILE_ID.match(profile_name):
        profile_name, consume, index = None, 0, None  # left in argv, where argparse rejects it (exit 2)
    env_home = os.environ.get("HERMES_HOME", "")
    if profile_name is None and env_home and Path(env_home).parent.name == "profiles":
        return args, None
    if profile_name is None and not os.environ.get("HERMES_S6_SUPERVISED_CHILD"):
        try:
            active = default_hermes_root_016() / "active_profile"
            if active.exists():
                name = active.read_text().strip()
                if name and name != "default":
                    profile_name, consume = name, 0
        except (UnicodeDecodeError, OSError):
            pass
    if profile_name is None:
        return args, None
    canon = profile_name.strip()  # profiles.normalize_profile_name + validate_profile_name + resolve_profile_env
    if not canon:
        raise ProfileError("profile name cannot be empty")
    canon = "default" if canon.casefold() == "default" else canon.lower()
    if canon != "default":
        if not PROFILE_ID.match(canon):
            raise ProfileError("Invalid profile name %r. Must match [a-z0-9][a-z0-9_-]{0,63}" % canon)
        if canon in RESERVED_PROFILE_NAMES:
            raise ProfileError("Profile name %r is reserved \u2014 it collides with either the Hermes installation "
                               "itself or a common system binary.  Pick a different name." % canon)
    root = default_hermes_root_016()
    directory = root if canon == "default" else root / "profiles" / canon
    if canon != "default" and not directory.is_dir():
        raise ProfileError("Profile '%s' does not exist. Create it with: hermes profile create %s" % (canon, canon))
    os.environ["HERMES_HOME"] = str(directory)
    if consume > 0 and index is not None:
        args = args[:index] + args[index + consume:]
    return args, canon


def parse_arguments_016(args):
    """The real CLI's argparse tree (hermes_cli/_parser.py, subcommands/gateway.py) cut down to `gateway [run]`.

    argparse itself reports a usage error ("hermes: error: unrecognized arguments: ...") and exits 2, as 0.16 does."""
    import argparse
    parser = argparse.ArgumentParser(prog="hermes", description="Hermes Agent - AI assistant with tool-calling "
                                     "capabilities (stub gateway, contract hermes-0.16: only `gateway run`)")
    parser.add_argument("--version", "-V", action="store_true", help="Show version and exit")
    parser.add_argument("-z", "--oneshot", metavar="PROMPT", default=None)
    parser.add_argument("-m", "--model", default=None)
    parser.add_argument("--provider", default=None)
    parser.add_argument("-t", "--toolsets", default=None)
    parser.add_argument("--resume", "-r", metavar="SESSION", default=None)
    parser.add_argument("--continue", "-c", dest="continue_last", nargs="?", const=True, default=None,
                        metavar="SESSION_NAME")
    parser.add_argument("--worktree", "-w", action="store_true", default=False)
    parser.add_argument("--accept-hooks", action="store_true", default=False)
    parser.add_argument("--skills", "-s", action="append", default=None)
    for flag in ("--yolo", "--pass-session-id", "--ignore-user-config", "--ignore-rules", "--safe-mode", "--tui",
                 "--cli"):
        parser.add_argument(flag, action="store_true", default=False)
    parser.add_argument("--dev", dest="tui_dev", action="store_true", default=False)
    commands = parser.add_subparsers(dest="command", help="Command to run")
    gateway = commands.add_parser("gateway", help="Messaging gateway management")
    gateway.add_argument("--accept-hooks", action="store_true", default=argparse.SUPPRESS)
    verbs = gateway.add_subparsers(dest="gateway_command")
    run = verbs.add_parser("run", help="Run gateway in foreground")
    run.add_argument("-v", "--verbose", action="count", default=0)
    run.add_argument("-q", "--quiet", action="store_true")
    run.add_argument("--replace", action="store_true")
    run.add_argument("--force", action="store_true")
    run.add_argument("--no-supervise", action="store_true")
    run.add_argument("--accept-hooks", action="store_true", default=argparse.SUPPRESS)
    namespace = parser.parse_args(args)  # exits 2 on a usage error, 0 after -h
    if namespace.command != "gateway":
        raise StubError("contract hermes-0.16 models only `gateway run`")
    return namespace


def running_under_gateway_supervisor_016():
    """cli/gateway.py:3798-3818: the duplicate-instance preflight is skipped under a supervisor."""
    if os.environ.get("INVOCATION_ID"):
        return True
    if os.environ.get("HERMES_S6_SUPERVISED_CHILD"):
        return True
    xpc = os.environ.get("XPC_SERVICE_NAME", "")
    return bool(xpc) and xpc != "0"


def restart_exit_code_016():
    """run.py:6433-6446: 75, except 0 when INVOCATION_ID is non-empty and this is not macOS."""
    if sys.platform == "darwin" or not os.environ.get("INVOCATION_ID"):
        return GATEWAY_SERVICE_RESTART_EXIT_CODE
    return 0


NOT_JSON = object()


def read_json_text_016(path):
    """What status.py's two readers share: (the stripped text, its JSON value); (None, None) when the file is absent,
    unreadable or empty, (text, NOT_JSON) when the text is not JSON."""
    if not os.path.exists(path):
        return None, None
    try:
        with open(path, encoding="utf-8") as handle:
            raw = handle.read().strip()
    except (OSError, UnicodeDecodeError):
        return None, None
    if not raw:
        return None, None
    try:
        return raw, json.loads(raw)
    except ValueError:
        return raw, NOT_JSON


def read_json_object_016(path):
    """status.py _read_json_file: None when absent, unreadable, empty, not JSON or not an object."""
    _, payload = read_json_text_016(path)
    return payload if isinstance(payload, dict) else None


def read_pid_record_016(path):
    """status.py _read_pid_record: a JSON object, or a bare integer PID."""
    raw, payload = read_json_text_016(path)
    if payload is NOT_JSON:
        try:
            return {"pid": int(raw)}
        except ValueError:
            return None
    if isinstance(payload, int) and not isinstance(payload, bool):
        return {"pid": payload}
    return payload if isinstance(payload, dict) else None


def atomic_json_write_016(path, data, **dump_kwargs):
    """utils.atomic_json_write: mkstemp (mode 0600) next to the file, fsync, replace; keeps an existing file's mode."""
    import stat
    import tempfile
    try:
        original_mode = stat.S_IMODE(os.stat(path).st_mode) if os.path.exists(path) else None
    except OSError:
        original_mode = None
    stem = os.path.splitext(os.path.basename(path))[0]
    fd, temp = tempfile.mkstemp(dir=os.path.dirname(path), prefix="." + stem + "_", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, ensure_ascii=False, **dump_kwargs)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
        if original_mode is not None:
            try:
                os.chmod(path, original_mode)
            except OSError:
                pass
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise


def fromisoformat_311(value):
    """datetime.fromisoformat as the gateway's Python 3.11 has it (Z and any offset accepted; naive stays naive).

    On Python < 3.11 the common forms 3.11 adds (Z, fractions that are not 3 or 6 digits) are rewritten first."""
    if sys.version_info >= (3, 11) or not isinstance(value, str):
        return datetime.fromisoformat(value)  # TypeError for a number, as in the gateway
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        match = ISO_TIME.match(value)
        if not match:
            raise
        whole, fraction, zone = match.groups()
        text = whole + ("." + (fraction + "000000")[:6] if fraction else "")
        if zone:
            text += "+00:00" if zone.upper() == "Z" else (zone if ":" in zone else zone[:3] + ":" + zone[3:])
        return datetime.fromisoformat(text)


def marker_is_stale_016(written_at):
    """status.py _marker_is_stale: older than 60 s, or not an ISO time with a timezone. A future time is fresh."""
    try:
        written = fromisoformat_311(written_at)
        return (datetime.now(timezone.utc) - written).total_seconds() > MARKER_TTL_SECONDS
    except (TypeError, ValueError):
        return True


def pid_exists_016(pid):
    try:
        os.kill(int(pid), 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (OSError, OverflowError, ValueError):
        return False


def process_cmdline_016(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            raw = handle.read()
        if raw:
            return raw.replace(b"\x00", b" ").decode("utf-8", "ignore").strip()
    except OSError:
        pass
    import subprocess
    try:
        result = subprocess.run(["ps", "-p", str(pid), "-o", "command="], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, universal_newlines=True, timeout=5)
        if result.returncode == 0 and result.stdout.strip():
            return result.stdout.strip()
    except (OSError, ValueError, subprocess.SubprocessError):
        pass
    return None


def write_stdout_016(text):
    try:
        sys.stdout.flush()
        sys.stdout.buffer.write(text.encode("utf-8"))
        sys.stdout.buffer.flush()
    except (OSError, ValueError, AttributeError):
        pass


def use_color_016():
    """hermes_cli/colors.py should_use_color."""
    if os.environ.get("NO_COLOR") is not None or os.environ.get("TERM") == "dumb":
        return False
    try:
        return sys.stdout.isatty()
    except (OSError, ValueError):
        return False


class Stub016(Stub):
    """The stub under contract hermes-0.16: the files, markers, signals and exit codes of the real 0.16 gateway."""

    def __init__(self, home, argv, profile, supervised, record_argv):
        Stub.__init__(self, home, argv, profile, supervised)
        self.record_argv = list(record_argv)  # sys.argv as the gateway records it (profile flag stripped)
        self.lock_handle = None
        self.running = False  # runner._running: the watcher acts only while running and not draining
        self.draining = False
        self.signal_initiated = False  # an unexpected SIGTERM (or a stop request with no marker): exit 1, "running"
        self.restart_task_started = False
        self.watcher_stop = threading.Event()

    # ---- files (status.py)

    def pid_record(self):
        return {"pid": self.pid, "kind": "hermes-gateway", "argv": list(self.record_argv),
                "start_time": process_start_time(self.pid)}

    def write_runtime_status(self, gateway_state=_UNSET, exit_reason=_UNSET, restart_requested=_UNSET,
                             active_agents=_UNSET, platform=_UNSET, platform_state=_UNSET, error_code=_UNSET,
                             error_message=_UNSET):
        """status.py write_runtime_status: updates the existing gateway_state.json (whatever a previous run left)."""
        path = self.path("gateway_state.json")
        payload = read_json_object_016(path)
        if not payload:
            payload = self.pid_record()
            payload.update({"gateway_state": "starting", "exit_reason": None, "restart_requested": False,
                            "active_agents": 0, "platforms": {}, "updated_at": utc_now_iso()})
        current = self.pid_record()
        payload.setdefault("platforms", {})
        payload["kind"] = current["kind"]
        payload["pid"] = current["pid"]
        payload["argv"] = current["argv"]
        payload["start_time"] = current["start_time"]
        payload["updated_at"] = utc_now_iso()
        if gateway_state is not _UNSET:
            payload["gateway_state"] = gateway_state
        if exit_reason is not _UNSET:
            payload["exit_reason"] = exit_reason
        if restart_requested is not _UNSET:
            payload["restart_requested"] = bool(restart_requested)
        if active_agents is not _UNSET:
            payload["active_agents"] = max(0, int(active_agents))
        if platform is not _UNSET:
            entry = payload["platforms"].get(platform, {})
            if platform_state is not _UNSET:
                entry["state"] = platform_state
            if error_code is not _UNSET:
                entry["error_code"] = error_code
            if error_message is not _UNSET:
                entry["error_message"] = error_message
            entry["updated_at"] = utc_now_iso()
            payload["platforms"][platform] = entry
        atomic_json_write_016(path, payload, indent=None, separators=(",", ":"))

    def update_status(self, state, exit_reason=None, **details):
        """run.py _update_runtime_status: the state with exit_reason, restart_requested and active_agents (0)."""
        self.state = state
        self.write_runtime_status(gateway_state=state, exit_reason=exit_reason,
                                  restart_requested=self.restart_requested, active_agents=0)
        self.event("state", state=state, **details)

    def lock_active(self):
        """status.py is_gateway_runtime_lock_active: someone holds the flock on gateway.lock."""
        if self.lock_handle is not None:
            return True
        path = self.path("gateway.lock")
        if not os.path.exists(path):
            return False
        import fcntl
        handle = open(path, "a+", encoding="utf-8")
        try:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return True
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            return False
        finally:
            handle.close()

    def cleanup_stale_files(self):
        for name in ("gateway.pid", "gateway.lock"):
            try:
                os.unlink(self.path(name))
            except OSError:
                pass

    def running_gateway_pid(self):
        """status.py get_running_pid: lock held, PID alive, start time equal, looks like a gateway; else cleans up."""
        if not self.lock_active():
            self.cleanup_stale_files()
            return None
        for record in (read_pid_record_016(self.path("gateway.pid")), read_pid_record_016(self.path("gateway.lock"))):
            if not record:
                continue
            try:
                pid = int(record["pid"])
            except (KeyError, TypeError, ValueError, OverflowError):
                continue
            if not pid_exists_016(pid):
                continue
            recorded_start = record.get("start_time")
            current_start = process_start_time(pid)
            if recorded_start is not None and current_start is not None and current_start != recorded_start:
                continue
            cmdline = process_cmdline_016(pid) or ""
            argv = record.get("argv")
            recorded = (" ".join(str(part) for part in argv).replace("\\", "/")
                        if record.get("kind") == "hermes-gateway" and isinstance(argv, list) and argv else "")
            if (any(p in cmdline for p in GATEWAY_CMDLINE_PATTERNS)
                    or any(p in recorded for p in GATEWAY_RECORD_PATTERNS)):
                return pid
        self.cleanup_stale_files()
        return None

    def acquire_lock(self):
        """status.py acquire_gateway_runtime_lock: flock(LOCK_EX|LOCK_NB) on gateway.lock, then the PID record in it."""
        import fcntl
        handle = open(self.path("gateway.lock"), "a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        json.dump(self.pid_record(), handle)
        handle.flush()
        try:
            os.fsync(handle.fileno())
        except OSError:
            pass
        self.lock_handle = handle
        return True

    def release_lock(self):
        """status.py release_gateway_runtime_lock: unlocks; gateway.lock itself stays."""
        handle, self.lock_handle = self.lock_handle, None
        if handle is None:
            return
        try:
            import fcntl
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        except OSError:
            pass
        try:
            handle.close()
        except OSError:
            pass

    def write_pid_file(self):
        """status.py write_pid_file: O_CREAT|O_EXCL (FileExistsError when another process won the race)."""
        fd = os.open(self.path("gateway.pid"), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(self.pid_record()))

    def remove_pid_file(self):
        """status.py remove_pid_file: unless it names another PID (an unparsable one is removed)."""
        path = self.path("gateway.pid")
        try:
            record = read_json_object_016(path)
            if record is not None:
                try:
                    file_pid = int(record["pid"])
                except (KeyError, TypeError, ValueError, OverflowError):
                    file_pid = None
                if file_pid is not None and file_pid != self.pid:
                    return
            os.unlink(path)
        except OSError:
            pass

    def unlink_quietly(self, name):
        try:
            os.unlink(self.path(name))
            return True
        except OSError:
            return False

    # ---- markers (status.py:807-862 and 948-1007)

    def fresh_marker_target_016(self, name, kind, by, record):
        """The checks both marker readers make on a parsed marker: (target_pid, target_start_time) when it is
        well-formed and fresh; None, after deleting it and logging why, when it is malformed or stale."""
        try:
            target_pid = int(record["target_pid"])
            target_start = record.get("target_start_time")
            written_at = record.get("written_at") or ""
        except (KeyError, TypeError, ValueError):
            deleted = self.unlink_quietly(name)
            self.event("marker", kind=kind, by=by, matched=False,
                       reason="malformed: target_pid missing or not an integer", deleted=deleted)
            return None
        if marker_is_stale_016(written_at):
            deleted = self.unlink_quietly(name)
            self.event("marker", kind=kind, by=by, matched=False,
                       reason="stale: written_at older than 60 s, without a timezone or not an ISO time",
                       deleted=deleted)
            return None
        return target_pid, target_start

    def marker_names_self_016(self, target_pid, target_start):
        """(matched, reason): a marker names this process when its PID is ours and, where both are known, so is the
        process start time."""
        if target_pid != self.pid:
            return False, "names pid %d" % target_pid
        our_start = process_start_time(self.pid)
        if target_start is not None and our_start is not None:
            matched = target_start == our_start
            return matched, "names this process" if matched else "start time %r is not %d" % (target_start, our_start)
        return True, "names this process (pid only)"

    def consume_marker_016(self, name, by):
        """status.py _consume_pid_marker_for_self: True when the marker names this process. A parseable marker is
        deleted whether or not it matches; an unparsable, empty or non-object one is left on disk."""
        kind = "planned-stop" if name == PLANNED_STOP_MARKER else "takeover"
        path = self.path(name)
        with self.marker_lock:
            try:
                record = read_json_object_016(path)
                if not record:
                    reason = "absent" if not os.path.exists(path) else "unparsable, empty or not an object: left alone"
                    self.event("marker", kind=kind, by=by, matched=False, reason=reason, deleted=False)
                    return False
                target = self.fresh_marker_target_016(name, kind, by, record)
                if target is None:
                    return False
                matched, reason = self.marker_names_self_016(*target)
                deleted = self.unlink_quietly(name)  # status.py:857-860: consumed whether or not it matches
                self.event("marker", kind=kind, by=by, matched=matched, reason=reason, deleted=deleted)
                return matched
            except Exception as error:  # noqa: BLE001 - the gateway's handler logs it and takes it as no marker
                self.event("marker", kind=kind, by=by, matched=False, reason="error: %r" % (error,), deleted=False)
                return False

    def planned_stop_targets_self(self):
        """status.py planned_stop_marker_targets_self, the watcher's probe: never deletes a marker that matches or
        names another process; deletes a malformed or stale one; leaves an unparsable one."""
        path = self.path(PLANNED_STOP_MARKER)
        with self.marker_lock:
            record = read_json_object_016(path)
            if not record:
                return False
            target = self.fresh_marker_target_016(PLANNED_STOP_MARKER, "planned-stop", "watcher", record)
            if target is None:
                return False
            matched, _ = self.marker_names_self_016(*target)
            return matched

    def watch_markers_016(self, interval):
        """run.py _run_planned_stop_watcher: while running and not draining, a planned-stop marker naming this
        process makes the main loop run the stop handler with no signal (which consumes the marker)."""
        path = self.path(PLANNED_STOP_MARKER)
        while not self.watcher_stop.is_set():
            try:
                if os.path.exists(path) and not self.draining and self.running:
                    if self.planned_stop_targets_self():
                        self.watcher_match = True
                        self.wake()
                        return
            except Exception as error:  # noqa: BLE001 - a watcher must not die of a bad file
                self.event("stub_error", message="watcher: %r" % (error,))
            self.watcher_stop.wait(interval)

    def stop_request(self, signame):
        """run.py shutdown_signal_handler (16726-16819) for SIGTERM, SIGINT or the watcher (None).

        Returns the reason. The takeover marker is consumed first; SIGINT is planned by itself and leaves the
        planned-stop marker alone; anything else not planned sets the flag that makes the exit 1."""
        by = {"SIGTERM": "sigterm", "SIGINT": "sigint"}.get(signame, "watcher")
        takeover = self.consume_marker_016(TAKEOVER_MARKER, by)
        planned = False
        if signame == "SIGINT":
            planned = True
        elif not takeover:
            planned = self.consume_marker_016(PLANNED_STOP_MARKER, by)
        unexpected = not takeover and not planned
        if unexpected:
            self.signal_initiated = True
        source = signame or "planned-stop marker seen by the watcher"
        if takeover:
            reason = "takeover (%s with takeover marker)" % source
        elif planned:
            reason = "planned stop (%s)" % (source if signame != "SIGTERM" else "SIGTERM with planned-stop marker")
        else:
            reason = "unexpected stop (%s without a planned-stop marker)" % source
        self.event("stop_request", by=signame or "watcher", takeover=takeover, planned=planned, unexpected=unexpected,
                   already_stopping=self.draining)
        return reason

    # ---- ending

    def exit_016(self, code, reason):
        """The last record, then the exit. No watchdog in 0.16: nothing else ends the process."""
        self.watcher_stop.set()
        self.event("exit", code=code, reason=reason)
        flush_and_exit(code)

    def end_without_teardown(self, code, reason):
        """A return from start_gateway before or without runner.stop(): atexit removes gateway.pid, the lock is
        released, gateway.lock stays; no .clean_shutdown."""
        self.remove_pid_file()
        self.release_lock()
        self.exit_016(code, reason)

    def finish_stop(self, reason):
        """The end of run.py _stop_impl (6386-6478) and start_gateway (16966-16990)."""
        self.remove_pid_file()
        self.release_lock()
        try:
            with open(self.path(".clean_shutdown"), "a"):
                pass
            os.utime(self.path(".clean_shutdown"), None)
        except OSError:
            pass
        code = 0
        if self.restart_requested:
            try:
                atomic_json_write_016(self.path(".restart_pending.json"),
                                      {"requested_at": time.time(), "via_service": True, "detached": False},
                                      indent=None)
            except OSError as error:
                self.event("stub_error", message="writing .restart_pending.json: %s" % error)
            code = restart_exit_code_016()
            self.exit_reason = self.exit_reason or "Gateway restart requested"
        elif self.signal_initiated:
            code = 1
        self.draining = False
        # An unexpected signal leaves "running" on purpose (run.py:6455-6476); everything else "stopped".
        final = "running" if self.signal_initiated and not self.restart_requested else "stopped"
        self.update_status(final, exit_reason=self.exit_reason)
        self.exit_016(code, reason)


def run_016(stub, knobs, fail_this_start, fail_left):
    mode = knobs["mode"]
    hang = mode == "hang_in_drain"
    stub.event("started", argv=stub.argv, hermes_home=stub.home, profile=stub.profile, supervised=stub.supervised,
               start_time=stub.start_time, knobs=knobs, fail_this_start=fail_this_start, fail_next_starts_left=fail_left)
    # The watcher starts before the PID file (run.py:16862-16869) but acts only once the gateway is running.
    if knobs["marker_poll_seconds"] > 0:
        threading.Thread(target=stub.watch_markers_016, args=(knobs["marker_poll_seconds"],), daemon=True,
                         name="planned-stop-watcher").start()

    # start_gateway's guards (run.py:16883-16904); each failure returns False, which is exit 1 with a log line.
    other = stub.running_gateway_pid()
    if other is not None and other != stub.pid:
        sys.stderr.write("ERROR gateway.run: Another gateway instance (PID %d) started during our startup. Exiting to "
                         "avoid double-running.\n" % other)
        stub.exit_016(1, "another gateway instance (PID %d) started during our startup" % other)
    if not stub.acquire_lock():
        sys.stderr.write("ERROR gateway.run: Gateway runtime lock is already held by another instance. Exiting.\n")
        stub.exit_016(1, "gateway runtime lock is already held by another instance")
    try:
        stub.write_pid_file()
    except FileExistsError:
        stub.release_lock()
        sys.stderr.write("ERROR gateway.run: PID file race lost to another gateway instance. Exiting.\n")
        stub.exit_016(1, "PID file race lost to another gateway instance")

    # runner.start(): "starting" (run.py:5005), then the previous run's .clean_shutdown is consumed (5154-5159).
    stub.state = "starting"
    stub.write_runtime_status(gateway_state="starting", exit_reason=None)
    stub.event("state", state="starting")
    stub.unlink_quietly(".clean_shutdown")

    began = time.monotonic()
    running_since = None
    drain_until = None  # set once a stop began; stays None with hang_in_drain (0.16 has no watchdog)
    stop_reason = None

    def begin_stop(reason):
        """runner.stop() is idempotent: the first request starts the one teardown, later ones only set flags."""
        nonlocal drain_until, stop_reason
        if stop_reason is not None:
            return
        stop_reason = reason
        stub.running = False
        stub.draining = True
        stub.stopping.set()
        stub.update_status("draining", reason=reason, restart=stub.restart_requested,
                           drain_seconds=None if hang else knobs["drain_seconds"])
        drain_until = None if hang else time.monotonic() + knobs["drain_seconds"]

    while True:
        while stub.pending_signals:
            signum = stub.pending_signals.pop(0)
            name = SIGNAL_NAMES.get(signum, str(signum))
            if signum == signal.SIGUSR1:
                # request_restart (run.py:4715-4730): once only; a restart requested during any drain still wins.
                if stub.restart_task_started:
                    stub.event("signal", signal=name, action="ignored: restart already requested")
                    continue
                stub.restart_task_started = True
                stub.restart_requested = True
                stub.event("signal", signal=name, action="restart" if stop_reason is None
                           else "restart requested while stopping: the exit becomes the restart's")
                begin_stop("restart requested (SIGUSR1)")
            else:
                stub.event("signal", signal=name, action="stop request" if stop_reason is None
                           else "stop request while stopping")
                begin_stop(stub.stop_request(name))
        if stub.watcher_match:
            stub.watcher_match = None
            begin_stop(stub.stop_request(None))

        now = time.monotonic()
        if stop_reason is None and stub.state == "starting" and now - began >= knobs["start_seconds"]:
            if mode == "config_error":
                # 0.16's one classified permanent start-up error (run.py:5314-5324): the only platform fails for
                # good, "startup_failed", and start_gateway returns True: exit 0, no "stopped", no .clean_shutdown.
                message = "configuration error (stub mode config_error)"
                stub.exit_reason = "stub: " + message
                stub.write_runtime_status(platform="stub", platform_state="fatal", error_code="stub-config_error",
                                          error_message=message)
                stub.state = "startup_failed"
                stub.write_runtime_status(gateway_state="startup_failed", exit_reason=stub.exit_reason)
                stub.event("state", state="startup_failed")
                sys.stderr.write("ERROR gateway.run: Gateway exiting cleanly: %s\n" % stub.exit_reason)
                stub.end_without_teardown(0, stub.exit_reason)
            if mode == "fail_start" or fail_this_start:
                stub.exit_reason = "startup failed (stub %s)" % ("mode fail_start" if mode == "fail_start"
                                                                 else "fail_next_starts")
                stub.state = "startup_failed"
                stub.write_runtime_status(gateway_state="startup_failed", exit_reason=stub.exit_reason)
                stub.event("state", state="startup_failed")
                stub.end_without_teardown(1, stub.exit_reason)
            stub.update_status("running")
            stub.running = True
            running_since = now
            stub.unlink_quietly(".restart_pending.json")  # the next start consumes it (run.py:5413-5427)
        if stop_reason is None and running_since is not None:
            if mode == "crash" and now - running_since >= knobs["crash_after_seconds"]:
                stub.crash(knobs["core_dump"])
            if mode == "exit" and now - running_since >= knobs["exit_after_seconds"]:
                stub.exit_reason = "stub mode exit"
                stub.update_status("stopped", exit_reason=stub.exit_reason)
                stub.end_without_teardown(knobs["exit_code"], stub.exit_reason)
        if stop_reason is not None and drain_until is not None and now >= drain_until:
            stub.finish_stop(stop_reason)

        sleep_until_next(stub, next_deadlines(knobs, stop_reason is not None, stub.state == "starting", began,
                                              running_since, drain_until))


def main_016(argv):
    """`hermes gateway run` as 0.16 starts: profile override, argparse, the duplicate-instance guards, then run."""
    try:
        args, profile = apply_profile_override_016(list(argv[1:]))
    except ProfileError as error:
        sys.stderr.write("Error: %s\n" % error)
        return 1
    try:
        namespace = parse_arguments_016(args)
    except StubError as error:
        sys.stderr.write("stub-gateway: %s\n" % error)
        return EX_STUB_USAGE
    env_home = os.environ.get("HERMES_HOME", "")
    home = os.path.abspath(os.path.expanduser(env_home)) if env_home else os.path.join(os.path.expanduser("~"),
                                                                                      ".hermes")
    os.makedirs(home, exist_ok=True)
    supervised = running_under_gateway_supervisor_016()
    stub = Stub016(home, list(argv), profile, supervised, [argv[0]] + list(args))

    # cli/gateway.py:3860-3890, the preflight of a bare shell start.
    if not namespace.replace and not supervised:
        other = stub.running_gateway_pid()
        if other is not None:
            line = "\u2717 Another gateway instance is already running (PID %d)." % other
            if use_color_016():
                line = "\033[31m" + line + "\033[0m"
            write_stdout_016(line + "\n"
                             "  Use 'hermes gateway restart' to replace it,\n"
                             "  or 'hermes gateway stop' first.\n"
                             "  Or use 'hermes gateway run --replace' to auto-replace.\n")
            stub.event("exit", code=1, reason="another gateway instance is already running (PID %d)" % other)
            return 1
    # run.py:16564-16697, in start_gateway (the real one prints its banner first).
    other = stub.running_gateway_pid()
    if other is not None and other != stub.pid:
        if namespace.replace:
            message = "--replace: taking over PID %d is not modelled by the stub" % other
            stub.event("stub_error", message=message)
            sys.stderr.write("stub-gateway: %s\n" % message)
            return EX_STUB_USAGE
        write_stdout_016("\n\u274c Gateway already running (PID %d).\n"
                         "   Use 'hermes gateway restart' to replace it,\n"
                         "   or 'hermes gateway stop' to kill it first.\n"
                         "   Or use 'hermes gateway run --replace' to auto-replace.\n\n" % other)
        stub.event("exit", code=1, reason="gateway already running (PID %d)" % other)
        return 1

    loaded = queue_signals_then_load_knobs(stub, home)  # 0.16 has no SIGHUP handler either
    if loaded is None:
        return EX_STUB_USAGE
    knobs, fail_this_start, fail_left = loaded
    knobs["contract"] = CONTRACT_016
    stub.echo = knobs["echo"]
    run_016(stub, knobs, fail_this_start, fail_left)
    return 0  # not reached: run_016() ends the process


def queue_signals_then_load_knobs(stub, home):
    """How both contracts begin a run. Handlers first (before any file says this process exists): they only queue the
    signal number and wake the loop; SIGHUP keeps its default, since the gateway has no handler for it and dies of it.
    Then the knobs: load_knobs's (knobs, fail_this_start, fail_next_starts_left), or None once a bad knob is
    reported."""
    def on_signal(signum, _frame):
        stub.pending_signals.append(signum)

    signal.set_wakeup_fd(stub.wake_w, warn_on_full_buffer=False)
    for signum in SIGNAL_NAMES:
        signal.signal(signum, on_signal)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)

    try:
        return load_knobs(home)
    except (StubError, OSError) as error:
        stub.event("stub_error", message=str(error))
        sys.stderr.write("stub-gateway: %s\n" % error)
        return None


def main(argv):
    try:
        contract = early_contract(argv[1:])
    except StubError as error:
        try:
            os.makedirs(error.home, exist_ok=True)
            Stub(error.home, list(argv), None, False).event("stub_error", message=str(error))
        except OSError:
            pass
        sys.stderr.write("stub-gateway: %s\n" % error)
        return EX_STUB_USAGE
    if contract == CONTRACT_016:
        return main_016(argv)
    try:
        profile, external_supervisor = parse_command_line(argv[1:])
    except StubError as error:
        sys.stderr.write("stub-gateway: %s\n" % error)
        return EX_STUB_USAGE
    home = resolve_home(profile)
    os.makedirs(home, exist_ok=True)
    stub = Stub(home, list(argv), profile, is_supervised(external_supervisor))

    loaded = queue_signals_then_load_knobs(stub, home)
    if loaded is None:
        return EX_STUB_USAGE
    knobs, fail_this_start, fail_left = loaded
    stub.echo = knobs["echo"]
    run(stub, knobs, fail_this_start, fail_left)
    return 0  # not reached: run() ends the process


if __name__ == "__main__":
    sys.exit(main(sys.argv))
