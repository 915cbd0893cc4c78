"""Shared helpers: output, SIGTERM handling, atomic writes, loading an app."""
import importlib.util
import os
import signal
import sys
import threading
import time

# Set by SIGTERM/SIGINT in long-running commands (puma, workers, waits).
STOP = []


class Abort(Exception):
    """A command fails: the message goes to stderr, the exit status is code."""

    def __init__(self, message, code=1):
        super().__init__(message)
        self.code = code


def out(*args):
    print(*args, flush=True)


def err(*args):
    print(*args, file=sys.stderr, flush=True)


def exit_on_term():
    """Short commands: SIGTERM/SIGINT end them at once (PID 1 would ignore them)."""
    def handler(signum, frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def flag_on_term():
    """Long-running commands: SIGTERM/SIGINT set STOP; the main loop winds down."""
    def handler(signum, frame):
        STOP.append(signum)
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def stopping():
    return bool(STOP)


def nap(seconds):
    """Sleeps up to seconds, less when told to stop; returns stopping()."""
    end = time.monotonic() + seconds
    while not STOP and time.monotonic() < end:
        time.sleep(0.05)
    return stopping()


def write_atomic(path, text):
    tmp = "%s.tmp.%d.%d" % (path, os.getpid(), threading.get_ident())
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def find_up(start, *names):
    """The first folder from start upwards holding one of names, or None."""
    folder = os.path.abspath(start)
    while True:
        for name in names:
            if os.path.exists(os.path.join(folder, name)):
                return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def load_module(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_app(root):
    """The APP object of ROOT/config/application.py (what Rails would boot)."""
    return load_module(os.path.join(root, "config", "application.py"), "kor_application").APP


def load_yaml(path):
    """Parsed YAML of path (None when empty); Abort when it does not parse."""
    import yaml
    try:
        with open(path, encoding="utf-8") as f:
            return yaml.safe_load(f)
    except yaml.YAMLError as e:
        raise Abort("%s: invalid YAML: %s" % (path, str(e).replace("\n", " ")))
    except OSError as e:
        raise Abort("%s: %s" % (path, e.strerror))
