#!/usr/bin/env python3
"""Test helper for the snapshot tests (stdlib only).

  snaptool.py load PORT STOPFILE OUT
      Writes (POST /items) and reads (GET /, GET /items/ID) on 127.0.0.1:PORT
      from four threads until STOPFILE exists (at most 120 s), then writes a
      JSON report to OUT: counts per method and status, failures (no answer,
      or a status other than 2xx; a 503 to a POST must carry Retry-After),
      the acknowledged POSTs' ids, and the time spans (seconds from the
      start) of failures and of held writes.
  snaptool.py consistent PORT DATADIR
      Checks an instance whose state came from a snapshot: every item row has
      its file in DATADIR, every file its row, and every processed item its
      derived file.  Prints a summary; exits 1 on a mismatch.
  snaptool.py craft KIND SRC OUT
      From SRC (a folder holding an extracted korcluster snapshot) writes a
      .tar.gz archive OUT that is bad in one way: dotdot, absolute, symlink
      (a link out of the tree), template (made for another template, with a
      consistent manifest).  Checksums in the manifest are right, so only the
      named flaw is wrong.
  snaptool.py hostile KIND SRC OUT [SQLFILE]
      Like craft, for the hostile archives of the security tests:
      sql (SQLFILE's statements appended to the dump as a piece of its own),
      linkout (data/x -> ../blue), chain (data/a/b/up -> ../.. and data/x
      through it to secrets/), under (a file below a symlink), longname (a
      member name of 4000 bytes), deep (200 folders), dupmanifest (the
      manifest lists a member twice and leaves another out), extragz (a
      db.sql.gz beside the dump pieces, in the manifest too).
  snaptool.py legacy KIND DIR OUT
      A KorCluster-format archive of DIR (an extracted korcluster snapshot:
      its dump becomes db.sql.gz) with one flaw: toplink (top/data/ini ->
      ../../instance.ini), bigstatement (one 256 MiB statement in
      db.sql.gz).
  snaptool.py swapat TEXT NEW PATH CMD...
      Runs CMD, passing its output on; when a line of its standard output
      holds TEXT, renames NEW over PATH.  Exits with CMD's status.
  snaptool.py peakrss CMD...
      Runs CMD and prints its peak resident memory in MiB as the last line
      of standard error; exits with CMD's status.
  snaptool.py files DIR
      sha256 of every file under DIR, by relative path, sorted.
  snaptool.py killat TEXT CMD...
      Runs CMD, passing its output on, and kills it (SIGKILL) as soon as a
      line of its standard output holds TEXT; exits 0 if it did, 1 if CMD
      ended first.
  snaptool.py runat TEXT ACTION CMD...
      Runs CMD, passing its output on; when a line of its standard output
      holds TEXT, runs the shell command ACTION once (killing a container,
      say) while CMD goes on.  Exits with CMD's status, or 99 if TEXT never
      came.
  snaptool.py verdict REPORT
      Prints the load report's counts, then its failures; exits 1 if any.
  snaptool.py acked REPORT PORT
      Every POST the load report says was acknowledged (201) is there now.
"""
import hashlib
import signal
import subprocess
import http.client
import io
import json
import os
import sys
import tarfile
import threading
import time


def request(port, method, path, body=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        data = r.read()
        return r.status, r.getheader("Retry-After"), data
    except OSError as e:
        return None, None, str(e).encode()
    finally:
        c.close()


def load(port, stopfile, out):
    port = int(port)
    lock = threading.Lock()
    report = {"counts": {}, "failures": [], "acked": [], "failed": 0, "held": 0,
              "fail_window": None, "held_window": None}
    t0 = time.monotonic()
    deadline = t0 + 120

    def window(key):
        now = round(time.monotonic() - t0, 3)
        w = report[key]
        report[key] = [now, now] if w is None else [w[0], now]

    def note(method, status, retry, data):
        key = "%s %s" % (method, status)
        with lock:
            report["counts"][key] = report["counts"].get(key, 0) + 1
            ok = status is not None and 200 <= status < 300
            if method == "POST" and status == 503 and retry:
                ok = True
                report["held"] += 1
                window("held_window")
            if not ok:
                report["failed"] += 1
                window("fail_window")
            if not ok and len(report["failures"]) < 50:
                report["failures"].append({"method": method, "status": status,
                                           "body": data[:200].decode("utf-8", "replace")})
            if method == "POST" and status == 201:
                report["acked"].append(json.loads(data)["id"])

    def writer(n):
        i = 0
        while not os.path.exists(stopfile) and time.monotonic() < deadline:
            i += 1
            st, retry, data = request(port, "POST", "/items", json.dumps({"body": "w%d-%d" % (n, i)}))
            note("POST", st, retry, data)
            if st == 503:
                time.sleep(0.05)

    def reader():
        while not os.path.exists(stopfile) and time.monotonic() < deadline:
            st, retry, data = request(port, "GET", "/")
            note("GET", st, retry, data)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(2)]
    threads += [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with open(out + ".tmp", "w") as f:
        json.dump(report, f)
    os.replace(out + ".tmp", out)


def get(port, path):
    st, _, data = request(int(port), "GET", path)
    if st != 200:
        raise SystemExit("GET %s: %s %s" % (path, st, data[:200]))
    return json.loads(data)


def consistent(port, datadir):
    ids = get(port, "/items")["ids"]
    bad = []
    processed = 0
    for i in ids:
        item = get(port, "/items/%d" % i)
        if item["file"] is None:
            bad.append("item %d has no file" % i)
        if item["processed"]:
            processed += 1
            if item["derived"] is None:
                bad.append("item %d is processed but has no derived file" % i)
    files = set()
    items = os.path.join(datadir, "items")
    for name in os.listdir(items) if os.path.isdir(items) else []:
        stem = name.split(".")[0]
        if name.endswith(".txt") and not name.endswith(".derived.txt") and stem.isdigit():
            files.add(int(stem))
        elif os.path.isdir(os.path.join(items, name)) and name.isdigit():
            if os.path.exists(os.path.join(items, name, "original.txt")):
                files.add(int(name))
    orphans = sorted(files - set(ids))
    if orphans:
        bad.append("files without a row: %s" % orphans[:20])
    print("%d items (%d processed), %d files; %s" % (len(ids), processed, len(files),
                                                    "consistent" if not bad else "INCONSISTENT"))
    for b in bad[:20]:
        print("  " + b)
    return 1 if bad else 0


def add_bytes(tar, name, data, mode=0o644):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    info.mtime = int(time.time())
    tar.addfile(info, io.BytesIO(data))


def craft(kind, src, out):
    manifest = json.load(open(os.path.join(src, "manifest.json")))
    extra = []  # (TarInfo, data)
    if kind == "dotdot":
        extra.append(("../escaped.txt", b"out of the tree\n"))
    elif kind == "absolute":
        extra.append(("/tmp/korcluster-absolute.txt", b"absolute\n"))
    elif kind == "template":
        manifest["template"] = "kor"
    elif kind != "symlink":
        raise SystemExit("unknown kind " + kind)
    with tarfile.open(out, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for m in manifest["members"]:
            path = os.path.join(src, m["path"])
            if m["type"] == "dir":
                info = tarfile.TarInfo(m["path"])
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            elif m["type"] == "file":
                add_bytes(tar, m["path"], open(path, "rb").read())
            elif m["type"] == "link":
                info = tarfile.TarInfo(m["path"])
                info.type = tarfile.SYMTYPE
                info.linkname = m["target"]
                tar.addfile(info)
        for name, data in extra:
            add_bytes(tar, name, data)
            manifest["members"].append({"path": name, "type": "file", "size": len(data),
                                        "sha256": hashlib.sha256(data).hexdigest()})
        if kind == "symlink":
            info = tarfile.TarInfo("data/items/evil")
            info.type = tarfile.SYMTYPE
            info.linkname = "../../../../../etc/passwd"
            tar.addfile(info)
            manifest["members"].append({"path": "data/items/evil", "type": "link", "size": 0,
                                        "target": info.linkname})
        add_bytes(tar, "manifest.json", json.dumps(manifest).encode())


def write_archive(out, members, manifest):
    """members: list of (TarInfo, bytes or None); manifest: dict or None."""
    with tarfile.open(out, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
        if manifest is not None:
            add_bytes(tar, "manifest.json", json.dumps(manifest).encode())


def member_list(src, manifest):
    out = []
    for m in manifest["members"]:
        info = tarfile.TarInfo(m["path"])
        if m["type"] == "dir":
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            out.append((info, None))
        elif m["type"] == "file":
            data = open(os.path.join(src, m["path"]), "rb").read()
            info.size = len(data)
            info.mode = 0o644
            out.append((info, data))
        else:
            info.type = tarfile.SYMTYPE
            info.linkname = m["target"]
            out.append((info, None))
    return out


def extra(members, manifest, name, kind, data=None, target=None):
    info = tarfile.TarInfo(name)
    if kind == "dir":
        info.type = tarfile.DIRTYPE
        info.mode = 0o755
        members.append((info, None))
        manifest["members"].append({"path": name, "type": "dir", "size": 0})
    elif kind == "link":
        info.type = tarfile.SYMTYPE
        info.linkname = target
        members.append((info, None))
        manifest["members"].append({"path": name, "type": "link", "size": 0, "target": target})
    else:
        info.size = len(data)
        info.mode = 0o644
        members.append((info, data))
        manifest["members"].append({"path": name, "type": "file", "size": len(data),
                                    "sha256": hashlib.sha256(data).hexdigest()})


def hostile(kind, src, out, sqlfile=None):
    manifest = json.load(open(os.path.join(src, "manifest.json")))
    members = member_list(src, manifest)
    if kind == "sql":
        n = sum(1 for m in manifest["members"] if m["path"].startswith("db/dump."))
        extra(members, manifest, "db/dump.%06d.sql" % n, "file", b"\n" + open(sqlfile, "rb").read())
    elif kind == "linkout":
        extra(members, manifest, "data/x", "link", target="../blue")
    elif kind == "chain":
        extra(members, manifest, "data/a", "dir")
        extra(members, manifest, "data/a/b", "dir")
        extra(members, manifest, "data/a/b/up", "link", target="../..")
        extra(members, manifest, "data/x", "link", target="a/b/up/../../../../secrets/db_root_password")
    elif kind == "under":
        extra(members, manifest, "data/dir", "link", target="items")
        extra(members, manifest, "data/dir/escaped.txt", "file", b"below a link\n")
    elif kind == "longname":
        extra(members, manifest, "data/" + "n" * 250 + "/" + "a" * 3740, "file", b"long\n")
    elif kind == "deep":
        path = "data"
        for _ in range(200):
            path += "/d"
            extra(members, manifest, path, "dir")
    elif kind == "dupmanifest":
        files = [m for m in manifest["members"] if m["type"] == "file" and m["path"].startswith("data/")]
        left_out = files[-1]
        manifest["members"].remove(left_out)
        manifest["members"].append(files[0])
        # The left-out member's content no longer matters to the manifest.
        members = [(i, b"tampered\n" if i.name == left_out["path"] else d) for i, d in members]
        for i, d in members:
            if i.name == left_out["path"]:
                i.size = len(d)
    elif kind == "extragz":
        import gzip
        extra(members, manifest, "db.sql.gz", "file", gzip.compress(b"DROP TABLE items;\n"))
    else:
        raise SystemExit("unknown kind " + kind)
    write_archive(out, members, manifest)


def legacy(kind, src, out):
    import gzip
    import zlib
    manifest = json.load(open(os.path.join(src, "manifest.json")))
    dump = b"".join(open(os.path.join(src, m["path"]), "rb").read()
                    for m in sorted(manifest["members"], key=lambda m: m["path"])
                    if m["path"].startswith("db/dump."))
    members = []

    def add(name, data=None, target=None):
        info = tarfile.TarInfo("top/" + name)
        if target is not None:
            info.type = tarfile.SYMTYPE
            info.linkname = target
        elif data is None:
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
        else:
            info.size = len(data)
            info.mode = 0o644
        members.append((info, data))

    add("data")
    if kind == "toplink":
        add("db.sql.gz", gzip.compress(dump))
        add("version.txt", manifest["version"].encode() + b"\n")
        add("data/ini", target="../../instance.ini")
    elif kind == "bigstatement":
        z = zlib.compressobj(1, zlib.DEFLATED, 31)
        parts = [z.compress(b"INSERT INTO items (body) VALUES ('")]
        block = b"a" * (1 << 20)
        for _ in range(40):
            parts.append(z.compress(block))
        parts.append(z.compress(b"');\n"))
        parts.append(z.flush())
        add("db.sql.gz", b"".join(parts))
        add("version.txt", manifest["version"].encode() + b"\n")
    else:
        raise SystemExit("unknown kind " + kind)
    write_archive(out, members, None)


def watch(text, act, cmd):
    """Run cmd, passing its standard output on; call act(p) once, when a
    line holds text.  (cmd's exit code, whether act was called.)"""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    done = False
    for line in p.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        if text in line and not done:
            act(p)
            done = True
    return p.wait(), done


def swapat(text, new, path, *cmd):
    return watch(text, lambda p: os.replace(new, path), cmd)[0]


def peakrss(*cmd):
    import resource
    rc = subprocess.call(cmd)
    kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    sys.stderr.write("peak %d MiB\n" % (kib // 1024))
    return rc


def files(d):
    for root, _, names in sorted(os.walk(d)):
        for n in sorted(names):
            p = os.path.join(root, n)
            if os.path.isfile(p) and not os.path.islink(p):
                print(hashlib.sha256(open(p, "rb").read()).hexdigest(), os.path.relpath(p, d))


def killat(text, *cmd):
    return 0 if watch(text, lambda p: os.kill(p.pid, signal.SIGKILL), cmd)[1] else 1


def runat(text, action, *cmd):
    """Run cmd; when a line of its output holds text, run the shell command
    action once (kill a container, say) and let cmd go on.  cmd's exit
    code, or 99 if text never came."""
    rc, done = watch(text, lambda p: subprocess.call(action, shell=True), cmd)
    return rc if done else 99


def verdict(report):
    r = json.load(open(report))
    print(r["counts"])
    print(r["failures"])
    return 1 if r["failures"] else 0


def acked(report, port):
    ids = json.load(open(report))["acked"]
    missing = []
    for i in ids:
        st, _, _ = request(int(port), "GET", "/items/%d" % i)
        if st != 200:
            missing.append(i)
    print("%d acknowledged writes, %d missing %s" % (len(ids), len(missing), missing[:20]))
    return 1 if missing else 0


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "load":
        load(*args)
    elif cmd == "consistent":
        sys.exit(consistent(*args))
    elif cmd == "craft":
        craft(*args)
    elif cmd == "files":
        files(*args)
    elif cmd == "hostile":
        hostile(*args)
    elif cmd == "legacy":
        legacy(*args)
    elif cmd == "swapat":
        sys.exit(swapat(*args))
    elif cmd == "peakrss":
        sys.exit(peakrss(*args))
    elif cmd == "killat":
        sys.exit(killat(*args))
    elif cmd == "runat":
        sys.exit(runat(*args))
    elif cmd == "verdict":
        sys.exit(verdict(*args))
    elif cmd == "acked":
        sys.exit(acked(*args))
    else:
        raise SystemExit(__doc__)
