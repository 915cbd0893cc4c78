#!/usr/bin/env python3
"""A small S3-compatible server for the backup tests (stdlib only).

Path-style requests (/BUCKET/KEY) signed with AWS Signature Version 4 in the
Authorization header, checked as S3 checks them: the canonical request
(URI, sorted and encoded query, signed headers, payload hash from
x-amz-content-sha256), the scope's region and service, the signature.  What
it serves: create bucket (PUT /BUCKET), put, get and delete object,
ListObjectsV2 (prefix, delimiter, max-keys, continuation), and multipart
uploads (create, upload part, ListParts with paging, complete, abort), with
S3's error codes (NoSuchKey, NoSuchUpload, EntityTooSmall, InvalidPart...).

Objects are files under ROOT/BUCKET/KEY, uploads under ROOT/.uploads/ID.
Each request is logged to ROOT/.log as "METHOD PATH?QUERY STATUS BODY_BYTES".

    s3server.py ROOT PORT ACCESS_KEY SECRET_KEY [--region R] [--max-keys N]
"""
import argparse
import hashlib
import hmac
import http.server
import os
import re
import secrets
import shutil
import threading
import urllib.parse
from xml.sax.saxutils import escape

MIN_PART = 5 * 1024 * 1024
LOCK = threading.Lock()


def enc(s, safe="-_.~"):
    return urllib.parse.quote(s, safe=safe)


def err_xml(code, msg):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code><Message>%s</Message>'
            "</Error>" % (code, escape(msg))).encode()


class S3Error(Exception):
    def __init__(self, status, code, msg):
        super().__init__(msg)
        self.status, self.code, self.msg = status, code, msg


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def handle_expect_100(self):
        # Answered in serve(), once the request's signature is checked.
        return True

    def do_GET(self):
        self.serve()

    def do_PUT(self):
        self.serve()

    def do_POST(self):
        self.serve()

    def do_DELETE(self):
        self.serve()

    def do_HEAD(self):
        self.serve()

    def serve(self):
        opts = self.server.opts
        raw_path, _, raw_query = self.path.partition("?")
        body = b""
        status = 500
        try:
            if "chunked" in self.headers.get("Transfer-Encoding", ""):
                raise S3Error(411, "MissingContentLength", "You must provide the Content-Length HTTP header.")
            n = int(self.headers.get("Content-Length", "0"))
            # Checked before the body is read: a refused request reads
            # nothing of it (as S3 answers "Expect: 100-continue").
            self.check_auth(raw_path, raw_query, opts)
            if self.headers.get("Expect", "").lower() == "100-continue":
                self.send_response_only(100)
                self.end_headers()
            body = self.rfile.read(n) if n else b""
            ph = self.headers.get("x-amz-content-sha256", "")
            if ph != "UNSIGNED-PAYLOAD" and hashlib.sha256(body).hexdigest() != ph:
                raise S3Error(400, "XAmzContentSHA256Mismatch",
                              "The provided 'x-amz-content-sha256' header does not match what was computed.")
            path = urllib.parse.unquote(raw_path)
            query = dict(urllib.parse.parse_qsl(raw_query, keep_blank_values=True))
            with LOCK:
                status, headers, out = self.route(path, query, body, opts)
        except S3Error as e:
            status, headers, out = e.status, {"Content-Type": "application/xml"}, err_xml(e.code, e.msg)
            self.close_connection = True
        with open(os.path.join(opts.root, ".log"), "a") as log:
            log.write("%s %s %d %d\n" % (self.command, self.path, status, len(body)))
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(out)

    def check_auth(self, raw_path, raw_query, opts):
        auth = self.headers.get("Authorization", "")
        m = re.fullmatch(r"AWS4-HMAC-SHA256 Credential=([^/,]+)/(\d{8})/([^/,]+)/([^/,]+)/aws4_request,\s*"
                         r"SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})", auth)
        if not m:
            raise S3Error(403, "AccessDenied", "Access Denied")
        access, day, region, service, signed, signature = m.groups()
        if access != opts.access:
            raise S3Error(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
        if region != opts.region or service != "s3":
            raise S3Error(400, "AuthorizationHeaderMalformed",
                          "the region '%s' is wrong; expecting '%s'" % (region, opts.region))
        amz_date = self.headers.get("x-amz-date", "")
        payload = self.headers.get("x-amz-content-sha256")
        names = signed.split(";")
        if "host" not in names or "x-amz-date" not in names or not amz_date.startswith(day):
            raise S3Error(403, "AccessDenied", "Access Denied")
        if payload is None:
            raise S3Error(400, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256")
        uri = enc(urllib.parse.unquote(raw_path), safe="/-_.~")
        pairs = urllib.parse.parse_qsl(raw_query, keep_blank_values=True)
        query = "&".join("%s=%s" % (enc(k), enc(v)) for k, v in sorted(pairs))
        headers = "".join("%s:%s\n" % (h, " ".join((self.headers.get(h) or "").split())) for h in names)
        canonical = "\n".join([self.command, uri, query, headers, signed, payload])
        scope = "%s/%s/%s/aws4_request" % (day, region, service)
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
        key = ("AWS4" + opts.secret).encode()
        for part in (day, region, service, "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest(), signature):
            raise S3Error(403, "SignatureDoesNotMatch",
                          "The request signature we calculated does not match the signature you provided. "
                          "Check your key & signing method.")

    def route(self, path, q, body, opts):
        parts = path.lstrip("/").split("/", 1)
        bucket = parts[0]
        key = parts[1] if len(parts) > 1 else ""
        if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket):
            raise S3Error(400, "InvalidBucketName", "The specified bucket is not valid.")
        bdir = os.path.join(opts.root, bucket)
        if not key:
            if self.command == "PUT":
                os.makedirs(bdir, exist_ok=True)
                return 200, {}, b""
            if not os.path.isdir(bdir):
                raise S3Error(404, "NoSuchBucket", "The specified bucket does not exist")
            if self.command == "GET" and q.get("list-type") == "2":
                return self.list_objects(bdir, q, opts)
            raise S3Error(501, "NotImplemented", "A header you provided implies functionality that is not implemented")
        if not os.path.isdir(bdir):
            raise S3Error(404, "NoSuchBucket", "The specified bucket does not exist")
        if ".." in key.split("/") or key.startswith("/") or "//" in key:
            raise S3Error(400, "InvalidArgument", "a key this server does not keep")
        fpath = os.path.join(bdir, key)
        if "uploads" in q and self.command == "POST":
            uid = secrets.token_hex(16)
            os.makedirs(os.path.join(opts.root, ".uploads", uid))
            with open(os.path.join(opts.root, ".uploads", uid, "key"), "w") as f:
                f.write(bucket + "/" + key)
            xml = ("<InitiateMultipartUploadResult><Bucket>%s</Bucket><Key>%s</Key><UploadId>%s</UploadId>"
                   "</InitiateMultipartUploadResult>" % (bucket, escape(key), uid))
            return 200, {"Content-Type": "application/xml"}, xml.encode()
        if "uploadId" in q:
            return self.multipart(bucket, key, fpath, q, body, opts)
        if self.command == "PUT":
            os.makedirs(os.path.dirname(fpath), exist_ok=True)
            with open(fpath + ".tmp", "wb") as f:
                f.write(body)
            os.replace(fpath + ".tmp", fpath)
            return 200, {"ETag": '"%s"' % hashlib.md5(body).hexdigest()}, b""
        if self.command in ("GET", "HEAD"):
            if not os.path.isfile(fpath):
                raise S3Error(404, "NoSuchKey", "The specified key does not exist.")
            with open(fpath, "rb") as f:
                return 200, {"Content-Type": "application/octet-stream"}, f.read()
        if self.command == "DELETE":
            if os.path.isfile(fpath):
                os.unlink(fpath)
            return 204, {}, b""
        raise S3Error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")

    def list_objects(self, bdir, q, opts):
        prefix, delim = q.get("prefix", ""), q.get("delimiter", "")
        max_keys = min(int(q.get("max-keys", "1000")), opts.max_keys)
        keys = []
        for d, _, files in os.walk(bdir):
            for fn in files:
                if not fn.endswith(".tmp"):
                    keys.append(os.path.relpath(os.path.join(d, fn), bdir))
        entries = set()
        for k in keys:
            if not k.startswith(prefix):
                continue
            rest = k[len(prefix):]
            if delim and delim in rest:
                entries.add(("p", prefix + rest.split(delim, 1)[0] + delim))
            else:
                entries.add(("k", k))
        entries = sorted(entries, key=lambda e: e[1])
        after = q.get("continuation-token", "")
        if after:
            entries = [e for e in entries if e[1] > bytes.fromhex(after).decode()]
        page, more = entries[:max_keys], len(entries) > max_keys
        xml = ["<ListBucketResult><Name>%s</Name><Prefix>%s</Prefix><KeyCount>%d</KeyCount><MaxKeys>%d</MaxKeys>"
               "<IsTruncated>%s</IsTruncated>" % (os.path.basename(bdir), escape(prefix), len(page), max_keys,
                                                  "true" if more else "false")]
        if more:
            xml.append("<NextContinuationToken>%s</NextContinuationToken>" % page[-1][1].encode().hex())
        for kind, name in page:
            if kind == "k":
                xml.append("<Contents><Key>%s</Key><Size>%d</Size></Contents>" %
                           (escape(name), os.path.getsize(os.path.join(bdir, name))))
            else:
                xml.append("<CommonPrefixes><Prefix>%s</Prefix></CommonPrefixes>" % escape(name))
        xml.append("</ListBucketResult>")
        return 200, {"Content-Type": "application/xml"}, "".join(xml).encode()

    def multipart(self, bucket, key, fpath, q, body, opts):
        udir = os.path.join(opts.root, ".uploads", q["uploadId"])
        if not re.fullmatch(r"[0-9a-f]{32}", q["uploadId"]) or not os.path.isdir(udir):
            raise S3Error(404, "NoSuchUpload", "The specified upload does not exist.")
        with open(os.path.join(udir, "key")) as f:
            if f.read() != bucket + "/" + key:
                raise S3Error(404, "NoSuchUpload", "The specified upload does not exist.")
        nums = sorted(int(p) for p in os.listdir(udir) if p.isdigit())
        if self.command == "PUT":
            n = int(q.get("partNumber", "0"))
            if not 1 <= n <= 10000:
                raise S3Error(400, "InvalidArgument", "Part number must be an integer between 1 and 10000")
            with open(os.path.join(udir, str(n)), "wb") as f:
                f.write(body)
            return 200, {"ETag": '"%s"' % hashlib.md5(body).hexdigest()}, b""
        if self.command == "GET":
            marker = int(q.get("part-number-marker", "0"))
            max_parts = min(int(q.get("max-parts", "1000")), opts.max_keys)
            rest = [n for n in nums if n > marker]
            page, more = rest[:max_parts], len(rest) > max_parts
            xml = ["<ListPartsResult><Bucket>%s</Bucket><Key>%s</Key><UploadId>%s</UploadId>"
                   "<IsTruncated>%s</IsTruncated>" % (bucket, escape(key), q["uploadId"], "true" if more else "false")]
            if more:
                xml.append("<NextPartNumberMarker>%d</NextPartNumberMarker>" % page[-1])
            for n in page:
                with open(os.path.join(udir, str(n)), "rb") as f:
                    data = f.read()
                xml.append("<Part><PartNumber>%d</PartNumber><ETag>&quot;%s&quot;</ETag><Size>%d</Size></Part>" %
                           (n, hashlib.md5(data).hexdigest(), len(data)))
            xml.append("</ListPartsResult>")
            return 200, {"Content-Type": "application/xml"}, "".join(xml).encode()
        if self.command == "DELETE":
            shutil.rmtree(udir)
            return 204, {}, b""
        if self.command == "POST":
            listed = re.findall(rb"<Part>\s*<PartNumber>(\d+)</PartNumber>\s*<ETag>([^<]*)</ETag>\s*</Part>", body)
            if not listed:
                raise S3Error(400, "MalformedXML", "The XML you provided was not well-formed.")
            datas = []
            for i, (n, etag) in enumerate(listed):
                p = os.path.join(udir, n.decode())
                if not os.path.isfile(p):
                    raise S3Error(400, "InvalidPart", "One or more of the specified parts could not be found.")
                with open(p, "rb") as f:
                    data = f.read()
                if etag.replace(b"&quot;", b"").strip(b'"') != hashlib.md5(data).hexdigest().encode():
                    raise S3Error(400, "InvalidPart", "One or more of the specified parts could not be found.")
                if i + 1 < len(listed) and len(data) < MIN_PART:
                    raise S3Error(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size")
                datas.append(data)
            if [int(n) for n, _ in listed] != sorted(int(n) for n, _ in listed):
                raise S3Error(400, "InvalidPartOrder", "The list of parts was not in ascending order.")
            os.makedirs(os.path.dirname(fpath), exist_ok=True)
            with open(fpath + ".tmp", "wb") as f:
                for d in datas:
                    f.write(d)
            os.replace(fpath + ".tmp", fpath)
            shutil.rmtree(udir)
            xml = ("<CompleteMultipartUploadResult><Bucket>%s</Bucket><Key>%s</Key><ETag>&quot;x-%d&quot;</ETag>"
                   "</CompleteMultipartUploadResult>" % (bucket, escape(key), len(datas)))
            return 200, {"Content-Type": "application/xml"}, xml.encode()
        raise S3Error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("port", type=int)
    ap.add_argument("access")
    ap.add_argument("secret")
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--max-keys", type=int, default=1000)
    opts = ap.parse_args()
    os.makedirs(opts.root, exist_ok=True)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", opts.port), Handler)
    srv.opts = opts
    srv.serve_forever()


if __name__ == "__main__":
    main()
