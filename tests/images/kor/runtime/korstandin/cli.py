"""Command lines of the shims /usr/local/bin/{bundle,rake,rails,puma,irb,ruby}.

  bundle exec CMD ARGS...   runs CMD (exec: CMD becomes the process) with the
                            app's bin/ first in PATH; needs a Gemfile in the
                            working folder or above (else exit 10)
  bundle -v | version
  rake [VAR=VALUE...] TASK...       the app's tasks, in order (rake -T lists)
  rails TASK... | r/runner CODE | s/server [-p P] [-b HOST] [-e ENV] [-P PIDFILE] | -v
  puma [-e ENV] [-b tcp://HOST[:PORT]] [-p PORT] [-t MIN[:MAX]] [-v]
       [--pidfile PATH] [-C CONFIG] [config.ru]
  irb                       reads standard input to its end (no Ruby here)
  ruby -v

rake, rails and puma find the app like the real ones: rake looks for a
Rakefile from the working folder upwards, rails for config/application.py,
puma for its rackup file (config.ru). Every app command needs the app's
configuration to be complete (Kor.boot) and handles SIGTERM.

puma reads config/puma.rb (or -C FILE) when present: its `port`,
`pidfile` and `environment` lines, each a literal or
ENV.fetch("VAR") { default } / ENV.fetch("VAR", default). Options win
over the file. The port is -b's, else -p, else the file's, else PORT, else
the app's default. The pidfile (--pidfile, else the file's) is relative to
the app's folder and its folder must exist, as Ruby's File.open needs.
"""
import os
import re
import sys

from . import web
from .common import Abort, err, exit_on_term, find_up, flag_on_term, load_app, out

PUMA_VERSION = "6.4.2"
RUBY = "ruby 3.2.3 (2024-01-18 revision 52bb2ac0a6) [x86_64-linux]"


def main(prog, argv):
    commands = {"bundle": bundle, "rake": rake, "rails": rails, "puma": puma, "irb": irb, "ruby": ruby}
    try:
        return commands[prog](argv)
    except Abort as e:
        prefix = {"rake": "rake aborted! ", "puma": "puma: ", "rails": "rails: "}.get(prog, "")
        err(prefix + str(e))
        return e.code


# ---------------------------------------------------------------- bundle

def bundle(argv):
    exit_on_term()
    if not argv or argv[0] in ("-h", "--help", "help"):
        out("Usage: bundle exec COMMAND [ARGS...] (the stand-in runs only `bundle exec`)")
        return 0 if argv else 1
    if argv[0] in ("-v", "--version", "version"):
        out("Bundler version 2.5.6")
        return 0
    if argv[0] != "exec":
        raise Abort("bundle %s: the stand-in only runs `bundle exec COMMAND`" % argv[0], 15)
    cmd = argv[1:]
    if cmd[:1] == ["--"]:
        cmd = cmd[1:]
    if not cmd:
        raise Abort("bundler: exec needs a command to run", 128)
    gemfile = os.environ.get("BUNDLE_GEMFILE")
    if not gemfile:
        root = find_up(os.getcwd(), "Gemfile")
        if root is None:
            raise Abort("Could not locate Gemfile or .bundle/ directory", 10)
        gemfile = os.path.join(root, "Gemfile")
    env = dict(os.environ, BUNDLE_GEMFILE=gemfile,
               PATH=os.path.join(os.path.dirname(gemfile), "bin") + ":" + os.environ.get("PATH", "/usr/bin:/bin"))
    try:
        os.execvpe(cmd[0], cmd, env)
    except FileNotFoundError:
        raise Abort("bundler: command not found: %s\nInstall missing gem executables with `bundle install`"
                    % cmd[0], 127)
    except PermissionError:
        raise Abort("bundler: not executable: %s" % cmd[0], 126)
    except OSError as e:
        raise Abort("bundler: failed to load command: %s (%s)" % (cmd[0], e.strerror), 1)


# ---------------------------------------------------------------- rake, rails

def app_here(*markers):
    root = find_up(os.getcwd(), *markers)
    if root is None:
        return None, None
    os.chdir(root)  # rake and rails run from the app's folder
    return root, load_app(root)


def run_tasks(app, tasks):
    unknown = [t for t in tasks if t not in app.tasks]
    if unknown:
        raise Abort("Don't know how to build task '%s' (See the list of available tasks with `rake --tasks`)"
                    % unknown[0])
    for task in tasks:
        app.run_task(task)
    return 0


def rake(argv):
    exit_on_term()
    tasks, listing = [], False
    for arg in argv:
        if arg in ("-T", "--tasks", "-P", "-D", "--describe"):
            listing = True
        elif arg in ("--trace", "-t", "--silent", "-s", "-q", "--quiet", "-v", "--verbose"):
            continue
        elif arg.startswith("-"):
            raise Abort("invalid option: %s" % arg)
        elif "=" in arg:
            name, value = arg.split("=", 1)
            os.environ[name] = value
        else:
            tasks.append(arg)
    root, app = app_here("Rakefile", "rakefile", "Rakefile.rb", "rakefile.rb")
    if app is None:
        raise Abort("No Rakefile found (looking for: rakefile, Rakefile, rakefile.rb, Rakefile.rb)")
    if listing:
        for name in sorted(app.tasks):
            out("rake %s" % name)
        return 0
    if not tasks:
        raise Abort("Don't know how to build task 'default' (See the list of available tasks with `rake --tasks`)")
    return run_tasks(app, tasks)


def rails(argv):
    exit_on_term()
    root, app = app_here(os.path.join("config", "application.py"))
    if app is None:
        out("Usage:\n  rails new APP_PATH [options]\n\n(no Rails application in %s or above)" % os.getcwd())
        return 1
    if not argv or argv[0] in ("-h", "--help", "help"):
        out("Usage: rails COMMAND [options]\n\n  runner (r), server (s), TASK... (%s)" % ", ".join(sorted(app.tasks)))
        return 0 if argv else 1
    cmd, rest = argv[0], argv[1:]
    if cmd in ("-v", "--version", "version"):
        out("Rails %s" % app.features["rails_version"])
        return 0
    if cmd in ("r", "runner"):
        code = [a for a in rest if not a.startswith("-")]
        if len(code) != 1:
            raise Abort("runner: give the code to run as one argument")
        if os.path.isfile(code[0]):
            with open(code[0], encoding="utf-8") as f:
                return app.runner(f.read())
        return app.runner(code[0])
    if cmd in ("s", "server"):
        return puma(rails_server_args(rest), rails_server=True)
    if cmd in ("c", "console", "db", "dbconsole", "g", "generate", "d", "destroy", "new", "test"):
        raise Abort("rails %s is not available in the stand-in" % cmd)
    return run_tasks(app, argv)


def rails_server_args(argv):
    """rails server's options as puma's."""
    args, it = [], iter(argv)
    for a in it:
        if a in ("-p", "--port"):
            args += ["-p", next(it, "")]
        elif a in ("-b", "--binding"):
            args += ["-b", "tcp://%s" % next(it, "")]
        elif a in ("-e", "--environment"):
            args += ["-e", next(it, "")]
        elif a in ("-P", "--pid"):
            args += ["--pidfile", next(it, "")]
        elif a in ("-d", "--daemon"):
            raise Abort("rails server -d: the stand-in stays in the foreground")
        elif a in ("-u", "--using") and next(it, "puma") == "puma":
            continue
        else:
            raise Abort("rails server: unknown option %s" % a)
    return args


# ---------------------------------------------------------------- puma

def ruby_value(expr, variables):
    """A puma.rb value: a literal, a variable, ENV.fetch("X") { d } or ENV.fetch("X", d)."""
    expr = expr.strip()
    m = re.match(r'^ENV\.fetch\(\s*["\']([^"\']+)["\']\s*(?:,\s*(.+?)\s*)?\)\s*(?:\{\s*(.+?)\s*\})?$', expr)
    if m:
        name, default = m.group(1), m.group(2) or m.group(3)
        if name in os.environ:
            return os.environ[name]
        return ruby_value(default, variables) if default is not None else None
    m = re.match(r'^ENV\[\s*["\']([^"\']+)["\']\s*\](?:\s*\|\|\s*(.+))?$', expr)
    if m:
        value = os.environ.get(m.group(1))
        return value if value is not None or m.group(2) is None else ruby_value(m.group(2), variables)
    m = re.match(r'^"([^"]*)"$|^\'([^\']*)\'$', expr)
    if m:
        return m.group(1) if m.group(1) is not None else m.group(2)
    if re.match(r"^-?\d+$", expr):
        return expr
    if expr in variables:
        return variables[expr]
    return None


def read_puma_rb(path):
    """port, pidfile, environment, threads (and bind) of a puma config file."""
    conf, variables = {}, {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            m = re.match(r"^([a-z_][a-z0-9_]*)\s*=\s*(.+)$", line)
            if m:
                variables[m.group(1)] = ruby_value(m.group(2), variables)
                continue
            m = re.match(r"^(port|pidfile|environment|bind)\s+(.+)$", line)
            if m:
                conf[m.group(1)] = ruby_value(m.group(2), variables)
                continue
            m = re.match(r"^threads\s+(.+?)\s*,\s*(.+)$", line)
            if m:
                conf["threads"] = "%s:%s" % (ruby_value(m.group(1), variables), ruby_value(m.group(2), variables))
    return conf


def parse_bind(uri):
    m = re.match(r"^tcp://(\[[^\]]+\]|[^:/]*)(?::(\d+))?/?$", uri)
    if not m:
        raise Abort("the stand-in binds tcp://HOST[:PORT] only, not %r" % uri)
    return m.group(1).strip("[]") or "0.0.0.0", int(m.group(2)) if m.group(2) else None


def puma(argv, rails_server=False):
    exit_on_term()
    opts = {"bind": [], "port": None, "env": None, "threads": None, "pidfile": None, "config": None}
    split = []
    for a in argv:  # --option=value -> --option value
        split += a.split("=", 1) if a.startswith("--") and "=" in a else [a]
    rackup, it = None, iter(split)
    for a in it:
        if a in ("-b", "--bind"):
            opts["bind"].append(next(it, ""))
        elif a in ("-p", "--port"):
            opts["port"] = next(it, "")
        elif a in ("-e", "--environment"):
            opts["env"] = next(it, "")
        elif a in ("-t", "--threads"):
            opts["threads"] = next(it, "")
        elif a == "--pidfile":
            opts["pidfile"] = next(it, "")
        elif a in ("-C", "--config"):
            opts["config"] = next(it, "")
        elif a in ("-v", "--log-requests", "-q", "--quiet", "--preload", "--debug", "--prune-bundler"):
            continue
        elif a in ("-w", "--workers", "--dir", "--tag", "-S", "--state", "--control-url", "--control-token"):
            value = next(it, "")
            if a in ("-w", "--workers") and value not in ("0", "1"):
                raise Abort("-w %s: the stand-in runs in single mode only" % value)
            if a == "--dir":
                os.chdir(value)
        elif a.startswith("-"):
            raise Abort("invalid option: %s" % a)
        elif rackup is None:
            rackup = a
        else:
            raise Abort("unexpected argument: %s" % a)
    rackup = os.path.abspath(rackup or "config.ru")
    if not os.path.isfile(rackup):
        raise Abort("ERROR: No application configured, nothing to run (no %s)" % rackup)
    root = os.path.dirname(rackup)
    os.chdir(root)
    app = load_app(root)
    config = opts["config"] or ("config/puma.rb" if os.path.isfile(os.path.join(root, "config/puma.rb")) else None)
    conf = read_puma_rb(config) if config and config != "-" else {}
    environment = opts["env"] or conf.get("environment") or os.environ.get("RACK_ENV") or \
        os.environ.get("RAILS_ENV") or "development"
    os.environ.setdefault("RAILS_ENV", environment)
    os.environ.setdefault("RACK_ENV", environment)
    host, port = "0.0.0.0", None
    binds = opts["bind"] or ([conf["bind"]] if conf.get("bind") else [])
    if binds:
        host, port = parse_bind(binds[0])
    if port is None:
        raw = opts["port"] or conf.get("port") or os.environ.get("PORT") or app.features["default_port"]
        try:
            port = int(raw)
        except ValueError:
            raise Abort("invalid port %r" % raw)
    pidfile = opts["pidfile"] or conf.get("pidfile")
    if rails_server and not pidfile:
        pidfile = os.environ.get("PIDFILE") or "tmp/pids/server.pid"
    threads = opts["threads"] or conf.get("threads") or "0:5"
    tmin, _, tmax = threads.partition(":")
    if not tmax:
        tmin, tmax = "0", tmin
    out("Puma starting in single mode...")
    out('* Puma version: %s (%s) ("The Eagle of Durango")' % (PUMA_VERSION, RUBY.split(" (")[0]))
    out("*  Min threads: %s\n*  Max threads: %s\n*  Environment: %s\n*          PID: %d"
        % (tmin, tmax, environment, os.getpid()))
    settings = app.boot()  # Rails boots: a configuration error ends puma here
    for note in settings.notes:
        out("* %s" % note)
    if pidfile:
        try:
            with open(pidfile, "w") as f:
                f.write("%d\n" % os.getpid())
        except FileNotFoundError:
            raise Abort("No such file or directory @ rb_sysopen - %s (Errno::ENOENT)" % pidfile)
        except OSError as e:
            raise Abort("%s @ rb_sysopen - %s" % (e.strerror, pidfile))
    try:
        app.prepare()
    except OSError as e:
        raise Abort("cannot create the data folders: %s: %s" % (e.filename, e.strerror))
    flag_on_term()
    try:
        return web.serve(app, host, port, os.path.abspath(pidfile) if pidfile else None)
    except OSError as e:
        if pidfile:
            try:
                os.unlink(pidfile)
            except OSError:
                pass
        raise Abort('%s - bind(2) for "%s" port %d' % (e.strerror, host, port))


# ---------------------------------------------------------------- irb, ruby

def irb(argv):
    exit_on_term()
    sys.stdin.read()
    return 0


def ruby(argv):
    if argv[:1] in (["-v"], ["--version"]):
        out(RUBY)
        return 0
    raise Abort("ruby: this is a stand-in without a Ruby interpreter (only `ruby -v`)")


# ---------------------------------------------------------------- app scripts

def script(path, entry, argv):
    """An app's bin/ script (bin/kor, bin/delayed_job): the app is the script's folder's parent."""
    exit_on_term()
    root = os.path.dirname(os.path.dirname(os.path.abspath(path)))
    name = os.path.relpath(os.path.abspath(path), root)
    try:
        return getattr(load_app(root), entry)(argv)
    except Abort as e:
        err("%s: %s" % (name, e))
        return e.code
