#!/usr/bin/python3
"""Elasticsearch stand-in for korcluster's tests (Python 3 stdlib + PyYAML).

Images 127.0.0.1:5000/korcluster-test/search:{2.4.6,5.6.16,7.17.25}; the
image's ELASTICSEARCH_VERSION (set from its tag) selects the behaviour. One
node, HTTP only, on 0.0.0.0:9200; the part of the REST API that ConedaKOR
and KorCluster used:

  GET /                         name, cluster_name, version.number, tagline
  GET /_cluster/health          {"status": "green", ...}
  HEAD|GET|PUT|DELETE /INDEX    PUT takes optional settings and mappings
  GET /INDEX/_mapping           the mappings as stored
  POST /_bulk, /INDEX/_bulk, /INDEX/TYPE/_bulk   NDJSON: index, create,
                                update (doc), delete
  PUT|POST /INDEX/TYPE/ID, POST /INDEX/TYPE      (TYPE may be _doc)
  GET|DELETE /INDEX/TYPE/ID
  GET|POST /INDEX[/TYPE]/_search  ?q=TEXT or FIELD:TEXT, size, from; a body
                                with query_string, match, term, match_all
  GET|POST /INDEX[/TYPE]/_count, POST /INDEX/_refresh, POST /INDEX/_flush
  GET /_cat/indices[?format=json]

Searching is a case-insensitive substring match over the documents' string
values (no analysis, no scoring: every hit has _score 1.0).

What differs by version, as in the real ones:
  2.4.6, 5.6.16  typed mappings ({"mappings": {"TYPE": {...}}}) and many
                 types per index; settings given as environment variables are
                 ignored (one log line each; only ES_JAVA_OPTS is read), as
                 in the official elasticsearch:2.4.6/5.6.16 images.
  7.17.25        a mapping whose top level is a type name is refused (400
                 mapper_parsing_exception "Root mapping definition has
                 unsupported parameters"), unless ?include_type_name=true;
                 one type per index; field type "string" is refused.
                 Settings in the environment (names with a dot, like
                 discovery.type) are read like -E options, and the node
                 refuses to start (exit 78, the bootstrap check) unless
                 discovery.type=single-node or a seed host / initial master
                 node setting is given.
  2.4.6          field types "text" and "keyword" are refused (2.x has
                 "string"); a new index is "index_already_exists_exception"
                 when it exists (5.x too), "resource_already_exists_exception"
                 in 7.x.

Data: every index is one JSON file, DATA/nodes/0/indices/NAME.json, written
whole (temporary file, fsync, rename) after each change, so a restarted
container finds what it had; DATA/nodes/0/node.json keeps the cluster_uuid. DATA is /usr/share/elasticsearch/data, or
path.data given as -Epath.data=DIR, -Des.path.data=DIR, --path.data=DIR or
in a YAML file named by -Des.config=FILE / -Epath.conf=DIR.

SIGTERM or SIGINT: exit 0.
"""
import json
import os
import re
import signal
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VERSION = os.environ.get("ELASTICSEARCH_VERSION", "5.6.16")
MAJOR = int(VERSION.split(".")[0])
LUCENE = {2: "5.5.4", 5: "6.6.1", 7: "8.11.3"}.get(MAJOR, "8.11.3")
HOME = "/usr/share/elasticsearch"
STOP = []

# Keys a 7.x root mapping may have; anything else is taken for a type name.
ROOT_MAPPING_KEYS = {"properties", "dynamic", "_source", "_meta", "_routing", "dynamic_templates",
                     "date_detection", "numeric_detection", "dynamic_date_formats", "_field_names",
                     "enabled", "runtime", "_data_stream_timestamp", "_doc_count", "_size"}
INVALID_NAME_CHARS = set('\\/*?"<>| ,#:')


def log(level, msg):
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    print("[%s][%-5s][o.e.n.Node               ] [standin] %s" % (stamp, level, msg), flush=True)


# ---------------------------------------------------------------- settings

def parse_args(argv):
    """-Ekey=value, -Des.key=value, --key=value -> settings; unknown args are logged."""
    settings = {}
    for arg in argv:
        m = re.match(r"^(?:-E|-Des\.|--)([A-Za-z0-9_.\-]+)=(.*)$", arg)
        if m:
            settings[m.group(1)] = m.group(2)
        elif arg in ("-d", "--daemonize"):
            log("WARN", "ignoring %s: the stand-in stays in the foreground" % arg)
        else:
            log("WARN", "ignoring argument %r" % arg)
    return settings


def flatten(doc, prefix=""):
    out = {}
    if isinstance(doc, dict):
        for k, v in doc.items():
            out.update(flatten(v, "%s%s." % (prefix, k)))
    elif prefix:
        out[prefix[:-1]] = "" if doc is None else str(doc)
    return out


def load_yaml_settings(path):
    if not os.path.exists(path):
        return {}
    import yaml
    try:
        with open(path, encoding="utf-8") as f:
            return flatten(yaml.safe_load(f) or {})
    except FileNotFoundError:
        return {}
    except (OSError, yaml.YAMLError) as e:
        log("ERROR", "cannot read %s: %s" % (path, e))
        sys.exit(1)


def env_settings():
    """Settings found in the environment: names with a dot (the 7.x image's convention)."""
    return {k: v for k, v in os.environ.items() if "." in k and k == k.lower() and not k.startswith("_")}


def settings_from(argv):
    settings = {}
    for name, value in sorted(env_settings().items()):
        if MAJOR >= 7:
            settings[name] = value
            log("INFO", "setting [%s] from the environment" % name)
        else:
            log("WARN", "ignoring environment setting [%s=%s]: the elasticsearch:%s image reads "
                        "only ES_JAVA_OPTS from the environment" % (name, value, VERSION))
    args = parse_args(argv)
    conf = args.get("config") or (os.path.join(args["path.conf"], "elasticsearch.yml") if "path.conf" in args
                                  else os.path.join(HOME, "config", "elasticsearch.yml"))
    settings.update(load_yaml_settings(conf))
    settings.update(args)
    if os.environ.get("ES_JAVA_OPTS"):
        log("INFO", "JVM arguments [%s] (ES_JAVA_OPTS)" % os.environ["ES_JAVA_OPTS"])
    return settings


def bootstrap_check(settings):
    """7.x in a container binds 0.0.0.0, so the production checks apply."""
    if MAJOR < 7:
        return True
    if settings.get("discovery.type") == "single-node":
        return True
    if any(settings.get(k) for k in ("discovery.seed_hosts", "discovery.seed_providers",
                                     "cluster.initial_master_nodes")):
        return True
    log("ERROR", "bootstrap check failure [1] of [1]: the default discovery settings are unsuitable "
                 "for production use; at least one of [discovery.seed_hosts, discovery.seed_providers, "
                 "cluster.initial_master_nodes] must be configured")
    return False


# ---------------------------------------------------------------- errors

class EsError(Exception):
    def __init__(self, status, etype, reason, root_reason=None, **extra):
        super().__init__(reason)
        self.status, self.etype, self.reason, self.extra = status, etype, reason, extra
        self.root_reason = root_reason or reason

    def doc(self):
        root = dict({"type": self.etype, "reason": self.root_reason},
                    **{k: v for k, v in self.extra.items() if k != "caused_by"})
        return {"error": dict({"root_cause": [root], "type": self.etype, "reason": self.reason}, **self.extra),
                "status": self.status}


def no_index(name):
    extra = {"resource.type": "index_or_alias", "resource.id": name, "index": name}
    if MAJOR >= 5:
        extra["index_uuid"] = "_na_"
    return EsError(404, "index_not_found_exception", "no such index" + (" [%s]" % name if MAJOR >= 7 else ""),
                   **extra)


def java_map(value):
    """value as Java's Map.toString() prints it (as in real error messages)."""
    if isinstance(value, dict):
        return "{" + ", ".join("%s=%s" % (k, java_map(v)) for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(java_map(v) for v in value) + "]"
    if value is True or value is False:
        return "true" if value else "false"
    return str(value)


# ---------------------------------------------------------------- storage

class Store:
    def __init__(self, data_dir):
        self.dir = os.path.join(data_dir, "nodes", "0", "indices")
        self.lock = threading.RLock()
        self.indices = {}

    def load(self):
        """Loads the indices; returns the cluster's uuid (made on the first start)."""
        os.makedirs(self.dir, exist_ok=True)
        state = os.path.join(os.path.dirname(self.dir), "node.json")
        try:
            with open(state, encoding="utf-8") as f:
                cluster_uuid = json.load(f)["cluster_uuid"]
        except FileNotFoundError:
            cluster_uuid = uuid.uuid4().hex[:22]
            with open(state + ".tmp", "w", encoding="utf-8") as f:
                json.dump({"cluster_uuid": cluster_uuid}, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(state + ".tmp", state)
        for name in sorted(os.listdir(self.dir)):
            path = os.path.join(self.dir, name)
            if ".tmp" in name:
                os.unlink(path)  # a write that did not finish
                continue
            if not name.endswith(".json"):
                continue
            with open(path, encoding="utf-8") as f:
                idx = json.load(f)
            self.indices[idx["name"]] = idx
        log("INFO", "loaded %d indices from %s" % (len(self.indices), self.dir))
        return cluster_uuid

    def save(self, idx):
        path = os.path.join(self.dir, idx["name"] + ".json")
        tmp = "%s.tmp.%d" % (path, threading.get_ident())
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(idx, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fd = os.open(self.dir, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def remove(self, name):
        try:
            os.unlink(os.path.join(self.dir, name + ".json"))
        except FileNotFoundError:
            pass


def check_index_name(name):
    bad = (name != name.lower() or name in (".", "..") or name[:1] in ("_", "-", "+")
           or any(c in INVALID_NAME_CHARS for c in name) or len(name.encode()) > 255)
    if bad:
        raise EsError(400, "invalid_index_name_exception",
                      "Invalid index name [%s], must be lowercase and must not contain the characters "
                      "[\\, /, *, ?, \", <, >, |,  , ,, #]" % name, index=name)


def check_field_types(mapping, path=""):
    for field, spec in (mapping.get("properties") or {}).items():
        if not isinstance(spec, dict):
            raise EsError(400, "mapper_parsing_exception", "Expected map for property [fields] on field [%s]"
                          % field)
        ftype = spec.get("type")
        if (MAJOR >= 7 and ftype == "string") or (MAJOR < 5 and ftype in ("text", "keyword")):
            raise EsError(400, "mapper_parsing_exception",
                          "No handler for type [%s] declared on field [%s]" % (ftype, path + field))
        check_field_types(spec, path + field + ".")


class Node:
    def __init__(self, store, cluster_uuid, cluster_name, node_name):
        self.store, self.cluster_name, self.node_name = store, cluster_name, node_name
        self.cluster_uuid = cluster_uuid

    # -- indices

    def get(self, name):
        idx = self.store.indices.get(name)
        if idx is None:
            raise no_index(name)
        return idx

    def new_index(self, name, body):
        check_index_name(name)
        settings = body.get("settings") or {}
        mappings = body.get("mappings") or {}
        if not isinstance(mappings, dict) or not isinstance(settings, dict):
            raise EsError(400, "mapper_parsing_exception", "Failed to parse mapping: malformed")
        return {"name": name, "uuid": uuid.uuid4().hex[:22], "created": int(time.time() * 1000),
                "settings": settings, "mappings": mappings, "types": self.types_of(mappings), "docs": {},
                "seq": 0}

    def types_of(self, mappings):
        return list(mappings.keys()) if MAJOR < 7 else (["_doc"] if mappings else [])

    def create_index(self, name, body, params):
        with self.store.lock:
            if name in self.store.indices:
                idx = self.store.indices[name]
                raise EsError(400, "resource_already_exists_exception" if MAJOR >= 7
                              else "index_already_exists_exception",
                              "already exists" if MAJOR < 5 else "index [%s/%s] already exists" % (name, idx["uuid"]),
                              index=name)
            mappings = body.get("mappings") or {}
            if MAJOR >= 7 and isinstance(mappings, dict):
                if params.get("include_type_name") == "true":
                    if len(mappings) > 1:
                        raise EsError(400, "illegal_argument_exception",
                                      "The mapping definition cannot be nested under a type [_doc] unless "
                                      "include_type_name is set to true.")
                    body = dict(body, mappings=next(iter(mappings.values())) if mappings else {})
                else:
                    unsupported = {k: v for k, v in mappings.items() if k not in ROOT_MAPPING_KEYS}
                    if unsupported:
                        listed = ", ".join("%s : %s" % (k, java_map(v)) for k, v in unsupported.items())
                        reason = "Root mapping definition has unsupported parameters:  [%s]" % listed
                        raise EsError(400, "mapper_parsing_exception", "Failed to parse mapping [_doc]: " + reason,
                                      root_reason=reason,
                                      caused_by={"type": "mapper_parsing_exception", "reason": reason})
                check_field_types(body.get("mappings") or {})
            elif isinstance(mappings, dict):
                for tmap in mappings.values():
                    check_field_types(tmap if isinstance(tmap, dict) else {})
            idx = self.new_index(name, body)
            self.store.save(idx)
            self.store.indices[name] = idx
        log("INFO", "[%s] creating index, mappings %s" % (name, idx["types"] or "[]"))
        if MAJOR < 5:
            return {"acknowledged": True}
        return {"acknowledged": True, "shards_acknowledged": True, "index": name}

    def delete_index(self, name):
        with self.store.lock:
            self.get(name)
            del self.store.indices[name]
            self.store.remove(name)
        log("INFO", "[%s] deleting index" % name)
        return {"acknowledged": True}

    def auto_index(self, name):
        """The index a write goes to, created when missing (action.auto_create_index)."""
        idx = self.store.indices.get(name)
        if idx is None:
            check_index_name(name)
            idx = self.new_index(name, {})
            self.store.indices[name] = idx
            log("INFO", "[%s] creating index, cause [auto(bulk api)]" % name)
        return idx

    # -- documents

    def resolve_type(self, idx, dtype):
        """The type a write with dtype goes to; 7.x indices have one type, "_doc" names it."""
        types = idx["types"]
        if MAJOR < 7 or not types:
            if dtype not in types:
                types.append(dtype)
            return dtype
        if dtype in (types[0], "_doc"):
            return types[0]
        raise EsError(400, "illegal_argument_exception",
                      "Rejecting mapping update to [%s] as the final mapping would have more than 1 type: "
                      "[%s, %s]" % (idx["name"], types[0], dtype))

    def write_doc(self, idx, dtype, doc_id, source, op="index"):
        """Returns the action's result item (status included); the caller saves."""
        if not isinstance(source, dict):
            raise EsError(400, "mapper_parsing_exception", "failed to parse, document is empty")
        dtype = dtype or ("_doc" if MAJOR >= 7 else None)
        if dtype is None:
            raise EsError(400, "action_request_validation_exception", "Validation Failed: 1: type is missing;")
        dtype = self.resolve_type(idx, dtype)
        doc_id = str(doc_id) if doc_id is not None else uuid.uuid4().hex[:20]
        key = dtype + "/" + doc_id
        old = idx["docs"].get(key)
        if op == "create" and old is not None:
            raise EsError(409, "version_conflict_engine_exception",
                          "[%s][%s]: version conflict, document already exists (current version [%d])"
                          % (dtype, doc_id, old["v"]))
        if op == "update":
            if old is None:
                raise EsError(404, "document_missing_exception", "[%s][%s]: document missing" % (dtype, doc_id))
            merged = dict(old["s"])
            merged.update(source)
            source = merged
        version = (old["v"] + 1) if old else 1
        idx["seq"] += 1
        idx["docs"][key] = {"v": version, "s": source}
        created = old is None
        item = {"_index": idx["name"], "_type": dtype, "_id": doc_id, "_version": version,
                "result": "created" if created else "updated", "status": 201 if created else 200,
                "_shards": {"total": 2, "successful": 1, "failed": 0}}
        if MAJOR < 5:
            del item["result"]
            item["created"] = created
        elif MAJOR < 7:
            item["created"] = created
        else:
            item.update({"_seq_no": idx["seq"] - 1, "_primary_term": 1})
        return item

    def find_key(self, idx, dtype, doc_id):
        """The stored key of a document; in 7.x the type in the path does not matter."""
        if MAJOR >= 7 or dtype is None:
            for t in idx["types"] or ["_doc"]:
                if t + "/" + doc_id in idx["docs"]:
                    return t + "/" + doc_id
            return None
        key = dtype + "/" + doc_id
        return key if key in idx["docs"] else None

    def delete_doc(self, idx, dtype, doc_id):
        doc_id = str(doc_id)
        key = self.find_key(idx, dtype, doc_id)
        old = idx["docs"].pop(key) if key else None
        item = {"_index": idx["name"], "_type": key.split("/")[0] if key else (dtype or "_doc"), "_id": doc_id,
                "_version": (old["v"] + 1) if old else 1, "result": "deleted" if old else "not_found",
                "status": 200 if old else 404, "_shards": {"total": 2, "successful": 1, "failed": 0}}
        if MAJOR < 5:
            del item["result"]
            item["found"] = old is not None
        return item

    def get_doc(self, idx, dtype, doc_id):
        key = self.find_key(idx, dtype, doc_id)
        if key is None:
            return 404, {"_index": idx["name"], "_type": dtype or "_doc", "_id": doc_id, "found": False}
        doc = idx["docs"][key]
        return 200, {"_index": idx["name"], "_type": key.split("/")[0], "_id": doc_id, "_version": doc["v"],
                     "found": True, "_source": doc["s"]}

    def bulk(self, default_index, default_type, raw):
        lines = raw.decode("utf-8").split("\n")
        items, errors, i = [], False, 0
        t0 = time.monotonic()
        touched = {}
        with self.store.lock:
            while i < len(lines):
                line = lines[i].strip()
                i += 1
                if not line:
                    continue
                try:
                    action = json.loads(line)
                    (op, meta), = action.items()
                except (ValueError, AttributeError):
                    raise EsError(400, "illegal_argument_exception", "Malformed action/metadata line [%d], "
                                  "expected START_OBJECT or END_OBJECT but found [VALUE_STRING]" % i)
                if op not in ("index", "create", "update", "delete"):
                    raise EsError(400, "illegal_argument_exception", "Malformed action/metadata line [%d], "
                                  "expected one of [create, delete, index, update] but found [%s]" % (i, op))
                name = meta.get("_index") or default_index
                dtype = meta.get("_type") or default_type
                doc_id = meta.get("_id")
                source = None
                if op != "delete":
                    while i < len(lines) and not lines[i].strip():
                        i += 1
                    if i >= len(lines):
                        raise EsError(400, "action_request_validation_exception",
                                      "Validation Failed: 1: no requests added;")
                    source = json.loads(lines[i])
                    i += 1
                    if op == "update":
                        source = source.get("doc") or {}
                try:
                    if not name:
                        raise EsError(400, "action_request_validation_exception",
                                      "Validation Failed: 1: index is missing;")
                    idx = self.auto_index(name)
                    touched[name] = idx
                    if op == "delete":
                        item = self.delete_doc(idx, dtype, doc_id)
                    else:
                        item = self.write_doc(idx, dtype, doc_id, source, op)
                except EsError as e:
                    errors = True
                    item = {"_index": name, "_type": dtype, "_id": doc_id, "status": e.status,
                            "error": {"type": e.etype, "reason": e.reason}}
                items.append({op: item})
            for idx in touched.values():
                self.store.save(idx)
        return {"took": int((time.monotonic() - t0) * 1000), "errors": errors, "items": items}

    # -- search

    def matching(self, names, dtype, params, body):
        size = int(params.get("size", (body or {}).get("size", 10)))
        start = int(params.get("from", (body or {}).get("from", 0)))
        test = query_of(params, body)
        hits = []
        for name in names:
            idx = self.get(name)
            for key in sorted(idx["docs"], key=doc_order):
                t, doc_id = key.split("/", 1)
                if dtype and t != dtype and not (MAJOR >= 7 and dtype == "_doc"):
                    continue
                doc = idx["docs"][key]
                if test(doc["s"]):
                    hits.append({"_index": name, "_type": t, "_id": doc_id, "_score": 1.0, "_source": doc["s"]})
        return hits, hits[start:start + size]

    def search(self, names, dtype, params, body):
        t0 = time.monotonic()
        hits, page = self.matching(names, dtype, params, body)
        total = {"value": len(hits), "relation": "eq"} if MAJOR >= 7 else len(hits)
        return {"took": int((time.monotonic() - t0) * 1000), "timed_out": False,
                "_shards": {"total": len(names), "successful": len(names), "skipped": 0, "failed": 0},
                "hits": {"total": total, "max_score": 1.0 if hits else None, "hits": page}}


def doc_order(key):
    t, doc_id = key.split("/", 1)
    return (t, len(doc_id), doc_id) if doc_id.isdigit() else (t, 1 << 30, doc_id)


def strings_of(value, field=None, prefix=""):
    """(field path, text) pairs of the document's scalar values."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from strings_of(v, field, prefix + k + ".")
    elif isinstance(value, list):
        for v in value:
            yield from strings_of(v, field, prefix)
    elif value is not None:
        yield prefix[:-1], value if isinstance(value, str) else json.dumps(value)


def substring_test(text, field=None):
    text = text.strip().strip('"').lower()
    if text in ("", "*"):
        return lambda src: True
    words = [w.strip("*") for w in text.split() if w.upper() not in ("AND", "OR")]

    def test(src):
        values = [v.lower() for f, v in strings_of(src) if field in (None, "_all", "*") or f == field
                  or f.startswith(field + ".")]
        return all(any(w in v for v in values) for w in words if w)
    return test


def query_of(params, body):
    if "q" in params:
        q = params["q"]
        m = re.match(r"^([A-Za-z0-9_.]+):(.*)$", q)
        return substring_test(m.group(2), m.group(1)) if m else substring_test(q)
    query = (body or {}).get("query") or {"match_all": {}}
    if "match_all" in query:
        return lambda src: True
    if "query_string" in query:
        qs = query["query_string"]
        fields = qs.get("fields") or [qs.get("default_field")]
        field = fields[0].split("^")[0] if len(fields) == 1 and fields[0] else None
        return substring_test(str(qs.get("query", "")), field)
    for kind in ("match", "term", "match_phrase", "wildcard", "prefix"):
        if kind in query and isinstance(query[kind], dict) and query[kind]:
            (field, value), = list(query[kind].items())[:1]
            if isinstance(value, dict):
                value = value.get("query", value.get("value", ""))
            return substring_test(str(value), field)
    raise EsError(400, "parsing_exception", "no [query] registered for [%s]" % next(iter(query)))


# ---------------------------------------------------------------- HTTP

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "elasticsearch-standin/" + VERSION
    disable_nagle_algorithm = True
    timeout = 120
    node = None

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, doc, content_type="application/json; charset=UTF-8"):
        data = b"" if doc is None else (doc if isinstance(doc, bytes) else (json.dumps(doc) + "\n").encode())
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", "0" if self.command == "HEAD" else str(len(data)))
        if STOP:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        print('%s "%s %s" %d' % (self.client_address[0], self.command, self.path, status), flush=True)

    def body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def handle_any(self):
        url = urllib.parse.urlsplit(self.path)
        params = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        parts = [urllib.parse.unquote(p) for p in url.path.split("/") if p]
        raw = self.body()
        try:
            status, doc = self.route(self.command, parts, params, raw)
            if "pretty" in params and isinstance(doc, (dict, list)):
                doc = (json.dumps(doc, indent=2) + "\n").encode()
            if isinstance(doc, str):
                self.reply(status, doc.encode(), "text/plain; charset=UTF-8")
            else:
                self.reply(status, doc)
        except EsError as e:
            self.reply(e.status, e.doc())
        except (ValueError, KeyError) as e:
            self.reply(400, EsError(400, "parse_exception", "request body or parameters are malformed: %s" % e).doc())

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = handle_any

    def json_body(self, raw):
        if not raw.strip():
            return {}
        try:
            doc = json.loads(raw)
        except ValueError as e:
            raise EsError(400, "parse_exception", "Failed to parse content to map: %s" % e)
        if not isinstance(doc, dict):
            raise EsError(400, "parse_exception", "request body is required to be an object")
        return doc

    def route(self, method, parts, params, raw):
        node = self.node
        n = len(parts)
        if n == 0 and method in ("GET", "HEAD"):
            version = {"number": VERSION, "build_hash": "0" * 40, "build_timestamp": "2019-01-01T00:00:00Z",
                       "build_snapshot": False, "lucene_version": LUCENE}
            if MAJOR >= 7:
                version.update({"build_flavor": "default", "build_type": "docker",
                                "minimum_wire_compatibility_version": "6.8.0",
                                "minimum_index_compatibility_version": "6.0.0-beta1"})
            return 200, {"name": node.node_name, "cluster_name": node.cluster_name,
                         "cluster_uuid": node.cluster_uuid, "version": version, "tagline": "You Know, for Search"}
        if parts[:2] == ["_cluster", "health"] and method == "GET":
            return 200, {"cluster_name": node.cluster_name, "status": "green", "timed_out": False,
                         "number_of_nodes": 1, "number_of_data_nodes": 1,
                         "active_primary_shards": len(node.store.indices),
                         "active_shards": len(node.store.indices), "relocating_shards": 0,
                         "initializing_shards": 0, "unassigned_shards": 0}
        if parts == ["_cat", "indices"] and method == "GET":
            return self.cat_indices(params)
        if parts and parts[-1] == "_bulk" and method in ("POST", "PUT") and n <= 3:
            with node.store.lock:
                return 200, node.bulk(parts[0] if n >= 2 else None, parts[1] if n == 3 else None, raw)
        if parts in (["_refresh"], ["_flush"]) and method in ("POST", "GET"):
            return 200, {"_shards": {"total": 1, "successful": 1, "failed": 0}}
        if parts and parts[-1] in ("_search", "_count") and n <= 3 and method in ("GET", "POST"):
            with node.store.lock:
                everything = n == 1 or parts[0] in ("_all", "*")
                names = sorted(node.store.indices) if everything else parts[0].split(",")
                dtype = parts[1] if n == 3 else None
                body = self.json_body(raw)
                if parts[-1] == "_count":
                    hits, _ = node.matching(names, dtype, params, body)
                    return 200, {"count": len(hits), "_shards": {"total": 1, "successful": 1, "failed": 0}}
                return 200, node.search(names, dtype, params, body)
        if not parts or parts[0].startswith("_"):
            return 400, {"error": "no handler found for uri [%s] and method [%s]" % (self.path, method)}
        name = parts[0]
        with node.store.lock:
            if n == 1:
                if method == "HEAD":
                    return (200 if name in node.store.indices else 404), None
                if method == "GET":
                    idx = node.get(name)
                    return 200, {name: {"aliases": {}, "mappings": idx["mappings"],
                                        "settings": {"index": dict(idx["settings"].get("index", idx["settings"]),
                                                                   uuid=idx["uuid"],
                                                                   creation_date=str(idx["created"]),
                                                                   provided_name=name)}}}
                if method == "PUT":
                    return 200, node.create_index(name, self.json_body(raw), params)
                if method == "DELETE":
                    return 200, node.delete_index(name)
            if n == 2 and parts[1] in ("_refresh", "_flush") and method in ("POST", "GET"):
                node.get(name)
                return 200, {"_shards": {"total": 1, "successful": 1, "failed": 0}}
            if n == 2 and parts[1] == "_mapping" and method == "GET":
                return 200, {name: {"mappings": node.get(name)["mappings"]}}
            if n == 2 and method == "POST" and not parts[1].startswith("_"):
                idx = node.auto_index(name)
                item = node.write_doc(idx, parts[1], None, self.json_body(raw))
                node.store.save(idx)
                return item.pop("status"), item
            if n == 3 and not parts[2].startswith("_"):
                dtype, doc_id = parts[1], parts[2]
                if method in ("PUT", "POST"):
                    idx = node.auto_index(name)
                    item = node.write_doc(idx, dtype, doc_id, self.json_body(raw),
                                          "create" if params.get("op_type") == "create" else "index")
                    node.store.save(idx)
                    return item.pop("status"), item
                if method in ("GET", "HEAD"):
                    status, doc = node.get_doc(node.get(name), dtype, doc_id)
                    return status, doc if method == "GET" else None
                if method == "DELETE":
                    idx = node.get(name)
                    item = node.delete_doc(idx, dtype, doc_id)
                    node.store.save(idx)
                    return item.pop("status"), item
            if n == 4 and parts[3] == "_create" and method in ("PUT", "POST"):
                idx = node.auto_index(name)
                item = node.write_doc(idx, parts[1], parts[2], self.json_body(raw), "create")
                node.store.save(idx)
                return item.pop("status"), item
        return 400, {"error": "no handler found for uri [%s] and method [%s]" % (self.path, method)}

    def cat_indices(self, params):
        rows = []
        for name in sorted(self.node.store.indices):
            idx = self.node.store.indices[name]
            size = "%dkb" % (len(json.dumps(idx["docs"])) // 1024 + 1)
            rows.append({"health": "green", "status": "open", "index": name, "uuid": idx["uuid"], "pri": "1",
                         "rep": "0", "docs.count": str(len(idx["docs"])), "docs.deleted": "0",
                         "store.size": size, "pri.store.size": size})
        if params.get("format") == "json":
            return 200, rows
        keys = ["health", "status", "index", "uuid", "pri", "rep", "docs.count", "docs.deleted", "store.size",
                "pri.store.size"]
        lines = [" ".join(keys)] if "v" in params else []
        lines += [" ".join(r[k] for k in keys) for r in rows]
        return 200, "".join(line + "\n" for line in lines)


def main(argv):
    signal.signal(signal.SIGTERM, lambda s, f: STOP.append(s))
    signal.signal(signal.SIGINT, lambda s, f: STOP.append(s))
    settings = settings_from(argv)
    if not bootstrap_check(settings):
        return 78
    data_dir = settings.get("path.data", os.path.join(HOME, "data")).split(",")[0]
    store = Store(data_dir)
    try:
        cluster_uuid = store.load()
    except (OSError, ValueError, KeyError) as e:
        log("ERROR", "cannot load the data under %s: %s" % (data_dir, e))
        return 1
    node = Node(store, cluster_uuid, settings.get("cluster.name", "elasticsearch"),
                settings.get("node.name", "standin"))
    Handler.node = node
    port = int(settings.get("http.port", "9200"))
    try:
        server = ThreadingHTTPServer(("0.0.0.0", port), Handler)
    except OSError as e:
        log("ERROR", "cannot bind 0.0.0.0:%d: %s" % (port, e))
        return 1
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    log("INFO", "version[%s] (stand-in), pid[%d], data [%s]" % (VERSION, os.getpid(), data_dir))
    log("INFO", "publish_address {0.0.0.0:%d}, bound_addresses {0.0.0.0:%d}" % (port, port))
    log("INFO", "started")
    while not STOP:
        time.sleep(0.05)
    log("INFO", "stopping ...")
    server.shutdown()
    server.server_close()
    with store.lock:  # no write is half done
        log("INFO", "stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
