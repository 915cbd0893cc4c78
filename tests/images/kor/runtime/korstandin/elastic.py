"""A small Elasticsearch client (like ConedaKOR's Kor::Elastic raw_request)."""
import http.client
import json
import urllib.parse

from . import db


class SearchError(Exception):
    """The search server answered an error, or could not be reached."""

    def __init__(self, status, doc, message=None):
        super().__init__(message or "%s: %s" % (status, json.dumps(doc)))
        self.status, self.doc = status, doc


class Elastic:
    def __init__(self, url, index, token=None):
        self.url, self.index, self.token = url.rstrip("/"), index, token
        u = urllib.parse.urlsplit(self.url)
        self.scheme, self.host = u.scheme or "http", u.hostname or "localhost"
        self.port = u.port or (443 if self.scheme == "https" else 9200)
        self.prefix = u.path.rstrip("/")

    def where(self):
        return "%s://%s:%d%s" % (self.scheme, self.host, self.port, self.prefix)

    def request(self, method, path, body=None, ndjson=False, timeout=10):
        """(status, parsed body or None); SearchError when the server cannot be reached."""
        query = ("&" if "?" in path else "?") + urllib.parse.urlencode({"token": self.token}) if self.token else ""
        if body is None:
            data = None
        elif ndjson:
            data = "".join(json.dumps(line) + "\n" for line in body).encode()
        else:
            data = json.dumps(body).encode()
        headers = {"Content-Type": "application/x-ndjson" if ndjson else "application/json",
                   "Accept": "application/json"}
        try:
            addr = db.resolve(self.host)
            cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
            conn = cls(addr, self.port, timeout=timeout)
            conn.request(method, self.prefix + path + query, body=data, headers=dict(headers, Host=self.host))
            resp = conn.getresponse()
            raw = resp.read()
            conn.close()
        except OSError as e:
            raise SearchError(0, None, "cannot reach the search server at %s: %s" % (self.where(), e))
        try:
            doc = json.loads(raw) if raw.strip() else None
        except ValueError:
            doc = raw.decode("utf-8", "replace")
        return resp.status, doc

    def require(self, method, path, body=None, ndjson=False, ok=()):
        status, doc = self.request(method, path, body, ndjson)
        if not (200 <= status < 300 or status in ok):
            raise SearchError(status, doc)
        return status, doc
