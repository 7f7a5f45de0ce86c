"""A stand-in Kubernetes API server for the end-to-end tests, and a way to run a program "in a pod".

    with apiserver.APIServer() as api:
        api.put_object(apiserver.pod_path("default", "web"), apiserver.make_pod("web", "default", [...]))
        api.put_object(*apiserver.make_chaosresult("litmus", "nginx-chaos-pod-cpu-hog"))
        proc = apiserver.run_in_pod(api, [helper, "-name", "stress-chaos"], env, stdout=PIPE, stderr=PIPE)
        ...
        api.requests_matching("PATCH", "/apis/litmuschaos.io/")   # what the helper sent

What it is: HTTPS (http.server.ThreadingHTTPServer + ssl) on 127.0.0.1 (or ::1) and a free port,
with a CA and server certificates made by the `openssl` CLI in a temp dir (server SANs
IP:127.0.0.1, IP:::1, DNS:localhost). It checks `Authorization: Bearer <token>` (401 with a
Status body otherwise) and keeps a small object store keyed by API path: pods, ChaosResults,
Events or anything else under /api/v1/namespaces/… or /apis/<group>/<version>/namespaces/…:
GET (item and list), POST (create; 409 AlreadyExists), PUT (404 when missing; 409 Conflict when
metadata.resourceVersion is stale), PATCH (application/merge-patch+json only, RFC 7386), DELETE,
with Status bodies shaped like the real ones (tests/fixtures/k8s-status-*.json).

Every request is recorded (method, path, headers with the token value redacted, body) for
assertions. It misbehaves on request: add_fault() answers N times (or always) with a status, drops
the connection, delays the answer, or answers and then closes the connection (silently, as an idle
timeout would, or announced with `Connection: close` or an HTTP/1.0 answer), optionally only for
one method or path prefix, and can run a callback when it fires; `certificate` serves a
certificate from another CA or for another name; `token` can be rotated.

Connections are HTTP/1.1 keep-alive (every answer has a Content-Length); `tls_connections` counts
the TLS handshakes that succeeded, so a test can assert that a client reused its connection.

The service-account files (token, ca.crt, namespace) are written into a directory the test gives
(or a temp dir). run_in_pod() starts a program with that directory bind-mounted at
/var/run/secrets/kubernetes.io/serviceaccount in a private mount namespace and with
KUBERNETES_SERVICE_HOST/PORT set: exactly what the kubelet gives a pod, so the program needs no
test-only switch.

Standard library only; run with /usr/bin/python3 (3.11) as root.
"""

from __future__ import annotations

import atexit
import copy
import dataclasses
import fcntl
import http.server
import json
import os
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from typing import Callable

_HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES_DIR = os.path.join(os.path.dirname(_HERE), "fixtures")

SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"

# ---------------------------------------------------------------------------------------------
# Certificates: one CA + server certificate, a second CA + server certificate ("other-ca"), and a
# certificate from the first CA for another name ("wrong-name"). Made once per process.

_pki_dir: str | None = None
_pki_lock = threading.Lock()


def _openssl(*args: str, cwd: str) -> None:
    proc = subprocess.run(["openssl", *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=60)
    if proc.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")


def _make_ca(d: str, name: str) -> None:
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.crt", "-days", "2", "-subj", f"/CN=stand-in {name}",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)


def _make_server_cert(d: str, ca: str, name: str, san: str) -> None:
    with open(os.path.join(d, f"{name}.ext"), "w") as f:
        f.write(f"subjectAltName={san}\nbasicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n")
    _openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", "/CN=kube-apiserver", cwd=d)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
             "-CAcreateserial", "-out", f"{name}.crt", "-days", "2", "-extfile", f"{name}.ext", cwd=d)


def _pki() -> str:
    global _pki_dir
    with _pki_lock:
        if _pki_dir is None:
            d = tempfile.mkdtemp(prefix="standin-pki-")
            atexit.register(shutil.rmtree, d, True)
            _make_ca(d, "ca")
            _make_ca(d, "other-ca")
            good_san = "IP:127.0.0.1,IP:0:0:0:0:0:0:0:1,DNS:localhost"
            _make_server_cert(d, "ca", "server", good_san)
            _make_server_cert(d, "other-ca", "other-server", good_san)
            _make_server_cert(d, "ca", "wrong-name", "IP:10.0.0.1,DNS:kubernetes.default.svc")
            _pki_dir = d
        return _pki_dir


# ---------------------------------------------------------------------------------------------
# Objects

def pod_path(ns: str, name: str) -> str:
    return f"/api/v1/namespaces/{ns}/pods/{name}"


def chaosresult_path(ns: str, name: str) -> str:
    return f"/apis/litmuschaos.io/v1alpha1/namespaces/{ns}/chaosresults/{name}"


def event_path(ns: str, name: str) -> str:
    return f"/api/v1/namespaces/{ns}/events/{name}"


def load_fixture(name: str):
    with open(os.path.join(FIXTURES_DIR, name)) as f:
        return json.load(f)


def make_pod(name: str, ns: str, containers: list[dict], phase: str = "Running") -> dict:
    """A pod shaped like tests/fixtures/k8s-pod-running-containerd.json.

    containers: [{"name": "app", "id": "<64 hex>", "runtime": "containerd",   # runtime optional
                  "state": {"running": {...}} (default running),
                  "lastState": {...} (default {})}, ...]
    The containerID is "<runtime>://<id>" ("" when id is "").
    """
    pod = load_fixture("k8s-pod-running-containerd.json")
    pod["metadata"].update({"name": name, "namespace": ns, "uid": str(uuid.uuid4()),
                            "generateName": name.rsplit("-", 1)[0] + "-"})
    template_spec = pod["spec"]["containers"][0]
    template_status = pod["status"]["containerStatuses"][0]
    pod["spec"]["containers"] = []
    pod["status"]["containerStatuses"] = []
    for c in containers:
        spec = copy.deepcopy(template_spec)
        spec["name"] = c["name"]
        pod["spec"]["containers"].append(spec)
        status = copy.deepcopy(template_status)
        status["name"] = c["name"]
        status["containerID"] = f"{c.get('runtime', 'containerd')}://{c['id']}" if c.get("id") else ""
        status["state"] = c.get("state", {"running": {"startedAt": "2026-11-26T21:03:32Z"}})
        status["lastState"] = c.get("lastState", {})
        status["ready"] = status["started"] = "running" in status["state"]
        pod["status"]["containerStatuses"].append(status)
    pod["status"]["phase"] = phase
    return pod


def make_chaosresult(ns: str, name: str, engine: str = "", experiment: str = "") -> tuple[str, dict]:
    """(path, object) of a Running ChaosResult shaped like tests/fixtures/chaosresult-running.json."""
    result = load_fixture("chaosresult-running.json")
    result["metadata"].update({"name": name, "namespace": ns, "uid": str(uuid.uuid4())})
    result["spec"] = {"engine": engine, "experiment": experiment or result["spec"]["experiment"]}
    return chaosresult_path(ns, name), result


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


_PATH = re.compile(r"^/(?:api/v1|apis/(?P<group>[^/]+)/[^/]+)/namespaces/(?P<ns>[^/]+)/(?P<resource>[^/]+)"
                   r"(?:/(?P<name>[^/]+))?$")


def _status(code: int, reason: str, message: str, details: dict | None = None) -> dict:
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason}
    if details is not None:
        body["details"] = details
    body["code"] = code
    return body


# ---------------------------------------------------------------------------------------------
# Faults and recorded requests

@dataclasses.dataclass
class Fault:
    """What to do instead of (or before) answering a matching request.

    kind: "status" (answer `status` with a Status body), "drop" (close the connection without an
    answer), "delay" (sleep `delay` seconds, then answer normally), "none" (only run `action`),
    "close" (answer normally, then close the connection without saying so: what an idle timeout
    does to a client that sends its next request), "announce-close" (answer normally with
    `Connection: close`, then close), "http10" (answer normally as HTTP/1.0, then close).
    times: how many more requests it applies to; None = every one.
    action: called with the server before the fault's effect (e.g. to change the store between a
    client's GET and its PUT, or to rotate the token).
    """
    kind: str = "status"
    status: int = 500
    message: str = ""
    delay: float = 0.0
    times: int | None = 1
    method: str | None = None
    path_prefix: str | None = None
    action: Callable[["APIServer"], None] | None = None
    fired: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.times <= 0:
            return False
        if self.method and self.method != method:
            return False
        return not self.path_prefix or path.startswith(self.path_prefix)


@dataclasses.dataclass
class Request:
    method: str
    path: str
    headers: dict           # Authorization: "Bearer <token>" when it carried the right token
    body: object            # parsed JSON, or the raw text, or None
    auth_ok: bool
    time: float


# Fault kinds that answer normally and then close the connection → how _send_json closes it.
_CLOSING = {"close": "silent", "announce-close": "announce", "http10": "http10"}

_REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
            409: "Conflict", 415: "UnsupportedMediaType", 429: "TooManyRequests", 500: "InternalError",
            503: "ServiceUnavailable", 504: "Timeout"}


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "stand-in-kube-apiserver"
    sys_version = ""

    def setup(self):
        # TLS per connection, so that the certificate can be switched between requests; the
        # handshake runs here, in the connection's own thread, not in the accept loop.
        api: APIServer = self.server.api
        # As Go's net/http (the real API server) does: without it, on a kept connection the body of
        # an answer (a second TLS record) waits for the client's delayed ACK of the headers, ~40 ms.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.request = api._tls_context().wrap_socket(self.request, server_side=True,
                                                      do_handshake_on_connect=False)
        self.request.settimeout(30)
        try:
            self.request.do_handshake()
        except (ssl.SSLError, OSError) as e:
            api._record_handshake_failure(e)
            self.request.close()
            raise
        api._record_connection()
        super().setup()

    def finish(self):
        # The server closes the socket it accepted, which wrap_socket() detached: close the TLS one.
        try:
            super().finish()
        finally:
            self.request.close()

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def _send_json(self, code: int, body, close: str = "") -> None:
        """close: "" (keep the connection), "silent", "announce" (Connection: close) or "http10"."""
        data = json.dumps(body, separators=(",", ":")).encode() + b"\n"
        if close == "http10":
            self.protocol_version = "HTTP/1.0"  # this answer's status line; the instance serves one connection
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if close == "announce":
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        if close:
            self.close_connection = True

    def _handle(self) -> None:
        api: APIServer = self.server.api
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        path = self.path.split("?", 1)[0]
        method = self.command
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")

        authorization = self.headers.get("Authorization", "")
        auth_ok = authorization == f"Bearer {api.token}"
        headers = {k: v for k, v in self.headers.items()}
        if "Authorization" in headers:
            headers["Authorization"] = "Bearer <token>" if auth_ok else "<wrong or stale token>"
        api._record(Request(method, path, headers, body, auth_ok, time.time()))

        if not auth_ok:
            self._send_json(401, _status(401, "Unauthorized", "Unauthorized"))
            return
        close = ""
        for fault in api._faults_for(method, path):
            if fault.action:
                fault.action(api)
            if fault.kind == "drop":
                self.close_connection = True
                self.request.shutdown(socket.SHUT_RDWR)
                return
            if fault.kind == "delay":
                time.sleep(fault.delay)
            elif fault.kind in _CLOSING:
                close = _CLOSING[fault.kind]
            elif fault.kind == "status":
                reason = _REASONS.get(fault.status, "InternalError")
                message = fault.message or f"stand-in API server: injected HTTP {fault.status}"
                self._send_json(fault.status, _status(fault.status, reason, message))
                return
        code, answer = api._serve(method, path, body, self.headers.get("Content-Type", ""))
        self._send_json(code, answer, close)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that rejects our certificate or gives up (read timeout) is a tested case, not
        # an error worth a traceback; the handshake failures are recorded.
        pass


class _Server6(_Server):
    address_family = socket.AF_INET6


class APIServer:
    """The stand-in API server. Use as a context manager (or start()/stop())."""

    def __init__(self, sa_dir: str | None = None, host: str = "127.0.0.1", namespace: str = "litmus"):
        self.host = host
        self.namespace = namespace
        self.token = self._new_token()
        self.tokens_issued = [self.token]
        # "good" | "other-ca" (signed by a CA the client does not trust) | "wrong-name" (our CA, SAN IP:10.0.0.1)
        self.certificate = "good"
        self._own_sa_dir = sa_dir is None
        self.sa_dir = sa_dir or tempfile.mkdtemp(prefix="standin-sa-")
        self._lock = threading.Lock()
        self._objects: dict[str, dict] = {}
        self._faults: list[Fault] = []
        self._requests: list[Request] = []
        self.handshake_failures: list[str] = []
        self.tls_connections = 0  # TLS handshakes that succeeded (connections a client opened)
        self._resource_version = 1000
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._mount_user: str | None = None

    # -- lifecycle

    def __enter__(self) -> "APIServer":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        pki = _pki()
        self._contexts = {}
        for mode, name in (("good", "server"), ("other-ca", "other-server"), ("wrong-name", "wrong-name")):
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(os.path.join(pki, f"{name}.crt"), os.path.join(pki, f"{name}.key"))
            self._contexts[mode] = ctx
        server_class = _Server6 if ":" in self.host else _Server
        self._server = server_class((self.host, 0), _Handler)
        self._server.api = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="standin-apiserver", daemon=True)
        self._thread.start()
        self.write_service_account(self.sa_dir)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._mount_user is not None:
            _mount_point_release(self._mount_user)
            self._mount_user = None
        if self._own_sa_dir:
            shutil.rmtree(self.sa_dir, ignore_errors=True)

    # -- what a pod sees

    @property
    def ca_file(self) -> str:
        return os.path.join(_pki(), "ca.crt")

    def write_service_account(self, directory: str) -> None:
        """token, ca.crt and namespace, as the kubelet's projected volume has them."""
        os.makedirs(directory, exist_ok=True)
        shutil.copyfile(self.ca_file, os.path.join(directory, "ca.crt"))
        with open(os.path.join(directory, "namespace"), "w") as f:
            f.write(self.namespace)
        self._write_token(directory)

    def _write_token(self, directory: str) -> None:
        # Replace atomically, as the kubelet does (a ..data symlink swap), so a reader never sees half a token.
        tmp = os.path.join(directory, ".token.tmp")
        with open(tmp, "w") as f:
            f.write(self.token)
        os.replace(tmp, os.path.join(directory, "token"))

    @staticmethod
    def _new_token() -> str:
        # Distinctive, so that a test can search every output for it.
        return "standin-token-" + secrets.token_hex(24)

    def rotate_token(self, write_file: bool = True) -> None:
        """A new token: the old one is refused from now on; the file has the new one (unless write_file is False)."""
        with self._lock:
            self.token = self._new_token()
            self.tokens_issued.append(self.token)
        if write_file:
            self._write_token(self.sa_dir)

    def env(self) -> dict:
        return {"KUBERNETES_SERVICE_HOST": self.host, "KUBERNETES_SERVICE_PORT": str(self.port)}

    # -- store

    def put_object(self, path: str, obj: dict) -> dict:
        with self._lock:
            obj = copy.deepcopy(obj)
            self._stamp(obj)
            self._objects[path] = obj
            return copy.deepcopy(obj)

    def get_object(self, path: str) -> dict | None:
        with self._lock:
            obj = self._objects.get(path)
            return copy.deepcopy(obj) if obj is not None else None

    def delete_object(self, path: str) -> None:
        with self._lock:
            self._objects.pop(path, None)

    def touch(self, path: str, mutate: Callable[[dict], None] | None = None) -> None:
        """A concurrent writer: changes the stored object (and its resourceVersion)."""
        with self._lock:
            obj = self._objects[path]
            if mutate:
                mutate(obj)
            self._stamp(obj)

    def _stamp(self, obj: dict) -> None:
        self._resource_version += 1
        meta = obj.setdefault("metadata", {})
        meta["resourceVersion"] = str(self._resource_version)
        meta.setdefault("uid", str(uuid.uuid4()))
        meta.setdefault("creationTimestamp", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))

    # -- faults

    def add_fault(self, kind: str = "status", *, status: int = 500, times: int | None = 1, method: str | None = None,
                  path_prefix: str | None = None, delay: float = 0.0, message: str = "",
                  action: Callable[["APIServer"], None] | None = None) -> Fault:
        fault = Fault(kind=kind, status=status, message=message, delay=delay, times=times, method=method,
                      path_prefix=path_prefix, action=action)
        with self._lock:
            self._faults.append(fault)
        return fault

    def fail_next(self, n: int, status: int = 500, **match) -> Fault:
        return self.add_fault("status", status=status, times=n, **match)

    def always_fail(self, status: int = 500, **match) -> Fault:
        return self.add_fault("status", status=status, times=None, **match)

    def conflict_next_put(self, **match) -> Fault:
        return self.add_fault("status", status=409, times=1, method="PUT", **match,
                              message="Operation cannot be fulfilled: the object has been modified; please apply "
                                      "your changes to the latest version and try again")

    def delay_answers(self, seconds: float, times: int | None = None, **match) -> Fault:
        return self.add_fault("delay", delay=seconds, times=times, **match)

    def drop_next(self, n: int = 1, **match) -> Fault:
        return self.add_fault("drop", times=n, **match)

    def close_after_next(self, n: int = 1, how: str = "close", **match) -> Fault:
        """Answer the next n matching requests normally, then close their connection; how: "close"
        (silently), "announce-close" (Connection: close) or "http10" (an HTTP/1.0 answer)."""
        return self.add_fault(how, times=n, **match)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _faults_for(self, method: str, path: str) -> list[Fault]:
        """The faults that fire for this request, in the order added: any number of "delay"/"none"
        and at most one that answers ("status"/"drop"/a closing kind); a later answering fault waits
        its turn."""
        with self._lock:
            out = []
            answered = False
            for fault in self._faults:
                if not fault.matches(method, path):
                    continue
                if fault.kind in ("status", "drop", *_CLOSING):
                    if answered:
                        continue
                    answered = True
                if fault.times is not None:
                    fault.times -= 1
                fault.fired += 1
                out.append(fault)
            return out

    # -- recorded requests

    @property
    def requests(self) -> list[Request]:
        with self._lock:
            return list(self._requests)

    def requests_matching(self, method: str | None = None, path_prefix: str = "") -> list[Request]:
        return [r for r in self.requests if (method is None or r.method == method) and r.path.startswith(path_prefix)]

    def annotation_history(self, result_path: str, prefix: str = "pod/") -> list[tuple[str, str]]:
        """The (key, value) annotations with `prefix` that merge PATCHes to result_path set, in order."""
        history = []
        for r in self.requests_matching("PATCH", result_path):
            for k, v in r.body["metadata"]["annotations"].items():
                if k.startswith(prefix):
                    history.append((k, v))
        return history

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()
            self.handshake_failures.clear()
            self.tls_connections = 0

    def reset(self) -> None:
        """Between tests: no objects, faults or recorded requests; the good certificate."""
        with self._lock:
            self._objects.clear()
            self._faults.clear()
            self._requests.clear()
            self.handshake_failures.clear()
            self.tls_connections = 0
        self.certificate = "good"

    def _record(self, request: Request) -> None:
        with self._lock:
            self._requests.append(request)

    def _record_connection(self) -> None:
        with self._lock:
            self.tls_connections += 1

    def _record_handshake_failure(self, error: Exception) -> None:
        with self._lock:
            self.handshake_failures.append(str(error))

    def _tls_context(self) -> ssl.SSLContext:
        return self._contexts[self.certificate]

    # -- the API

    def _serve(self, method: str, path: str, body, content_type: str) -> tuple[int, dict]:
        m = _PATH.match(path)
        if not m:
            return 404, _status(404, "NotFound", "the server could not find the requested resource")
        group, ns, resource, name = m["group"], m["ns"], m["resource"], m["name"]
        qualified = f"{resource}.{group}" if group else resource
        details = {"name": name or "", **({"group": group} if group else {}), "kind": resource}

        def not_found():
            return 404, _status(404, "NotFound", f'{qualified} "{name}" not found', details)

        with self._lock:
            if name is None:
                if method == "GET":
                    prefix = path + "/"
                    items = [copy.deepcopy(o) for p, o in sorted(self._objects.items()) if p.startswith(prefix)]
                    return 200, {"kind": "List", "apiVersion": "v1", "metadata": {}, "items": items}
                if method == "POST":
                    if not isinstance(body, dict) or not body.get("metadata", {}).get("name"):
                        return 400, _status(400, "BadRequest", "metadata.name is required")
                    name = body["metadata"]["name"]
                    details["name"] = name
                    item = f"{path}/{name}"
                    if item in self._objects:
                        return 409, _status(409, "AlreadyExists", f'{qualified} "{name}" already exists', details)
                    obj = copy.deepcopy(body)
                    obj["metadata"]["namespace"] = ns
                    self._stamp(obj)
                    self._objects[item] = obj
                    return 201, copy.deepcopy(obj)
                return 405, _status(405, "MethodNotAllowed", f"{method} is not supported on a collection")

            stored = self._objects.get(path)
            if method == "GET":
                return (200, copy.deepcopy(stored)) if stored is not None else not_found()
            if method == "DELETE":
                if stored is None:
                    return not_found()
                del self._objects[path]
                return 200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}
            if method == "PUT":
                if stored is None:
                    return not_found()
                if not isinstance(body, dict) or body.get("metadata", {}).get("name") != name:
                    return 400, _status(400, "BadRequest", "the name of the object does not match the name on the URL")
                sent_rv = body["metadata"].get("resourceVersion")
                if sent_rv is not None and sent_rv != stored["metadata"].get("resourceVersion"):
                    return 409, _status(409, "Conflict",
                                        f'Operation cannot be fulfilled on {qualified} "{name}": the object has been '
                                        "modified; please apply your changes to the latest version and try again",
                                        details)
                obj = copy.deepcopy(body)
                obj["metadata"]["uid"] = stored["metadata"].get("uid")
                obj["metadata"]["creationTimestamp"] = stored["metadata"].get("creationTimestamp")
                self._stamp(obj)
                self._objects[path] = obj
                return 200, copy.deepcopy(obj)
            if method == "PATCH":
                if content_type.split(";")[0].strip() != "application/merge-patch+json":
                    return 415, _status(415, "UnsupportedMediaType",
                                        f'the body of the request was in an unknown format - accepted media types '
                                        f'include: application/json-patch+json, application/merge-patch+json, '
                                        f'application/apply-patch+yaml (got "{content_type}")')
                if stored is None:
                    return not_found()
                if not isinstance(body, dict):
                    return 400, _status(400, "BadRequest", "the patch is not a JSON object")
                obj = merge_patch(stored, body)
                self._stamp(obj)
                self._objects[path] = obj
                return 200, copy.deepcopy(obj)
            return 405, _status(405, "MethodNotAllowed", f"{method} is not supported")


# ---------------------------------------------------------------------------------------------
# Running a program "in a pod"

# The mount point must exist on the host for the bind mount. It is created only when missing and
# removed when the last user is gone. Users are counted across processes (two test processes may
# run at once) in a state file under /run, guarded by an flock on /run itself (a lock on the state
# file could not survive the file's removal). A user whose process died is pruned.
_MOUNT_STATE = "/run/stress-standin-serviceaccount.json"


def _locked_state(update: Callable[[dict], None]) -> None:
    fd = os.open("/run", os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            with open(_MOUNT_STATE) as f:
                state = json.load(f)
        except FileNotFoundError:
            state = {"created": [], "users": []}
        state["users"] = [u for u in state["users"] if _pid_alive(int(u.split(":")[0]))]
        update(state)
        if state["users"] or state["created"]:
            with open(_MOUNT_STATE + ".tmp", "w") as f:
                json.dump(state, f)
            os.replace(_MOUNT_STATE + ".tmp", _MOUNT_STATE)
        elif os.path.exists(_MOUNT_STATE):
            os.unlink(_MOUNT_STATE)
    finally:
        os.close(fd)  # releases the flock


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _mount_point_acquire(user: str) -> None:
    def update(state):
        missing = []
        path = os.path.realpath(SERVICE_ACCOUNT_DIR)
        while not os.path.exists(path):
            missing.append(path)
            path = os.path.dirname(path)
        for d in reversed(missing):
            os.mkdir(d, 0o755)
            state["created"].append(d)
        if user not in state["users"]:
            state["users"].append(user)
    _locked_state(update)


def _mount_point_release(user: str) -> None:
    def update(state):
        state["users"] = [u for u in state["users"] if u != user]
        if state["users"]:
            return
        # Deepest first; a directory someone else put something into stays.
        for d in sorted(state["created"], key=len, reverse=True):
            try:
                os.rmdir(d)
            except OSError:
                pass
        state["created"] = []
    _locked_state(update)


# Runs in the child, between fork and the program's exec: a fresh Python doing the unshare and
# mounts, then exec'ing the program (so the pid the caller gets is the program's own). Not a
# preexec_fn: the stand-in server runs threads in the caller's process, and Python documents
# preexec_fn as unsafe (it may deadlock) in a process with threads.
_POD_WRAPPER = r"""
import ctypes, os, sys
CLONE_NEWNS = 0x00020000
MS_RDONLY, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 32, 4096, 16384, 1 << 18
libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p]

def check(ok, what):
    if not ok:
        err = ctypes.get_errno()
        sys.stderr.write(f"run_in_pod: {what}: {os.strerror(err)}\n")
        os._exit(127)

source, target, argv = sys.argv[1], sys.argv[2], sys.argv[4:]
check(libc.unshare(CLONE_NEWNS) == 0, "unshare(CLONE_NEWNS)")
# Our mounts must not propagate back to the host's namespace.
check(libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) == 0, "mount --make-rprivate /")
check(libc.mount(source.encode(), target.encode(), None, MS_BIND, None) == 0, f"mount --bind {source} {target}")
check(libc.mount(None, target.encode(), None, MS_BIND | MS_REMOUNT | MS_RDONLY, None) == 0, f"remount ro {target}")
try:
    os.execvp(argv[0], argv)
except OSError as e:
    sys.stderr.write(f"run_in_pod: exec {argv[0]}: {e.strerror}\n")
    os._exit(127)
"""


def run_in_pod(api: APIServer, argv: list[str], env: dict | None = None, **popen_kwargs) -> subprocess.Popen:
    """Start argv as the kubelet would start a container process that talks to `api`.

    The service-account files of `api` are bind-mounted (read-only) at
    /var/run/secrets/kubernetes.io/serviceaccount in a private mount namespace, and
    KUBERNETES_SERVICE_HOST/PORT are set (over `env`, default os.environ). The returned Popen's pid
    is the program's (the wrapper execs it). Stop the program before api.stop().
    """
    if api._mount_user is None:
        api._mount_user = f"{os.getpid()}:{id(api)}"
        _mount_point_acquire(api._mount_user)
        # A test that never calls api.stop() still gives the mount point back.
        atexit.register(_mount_point_release, api._mount_user)
    full_env = dict(os.environ if env is None else env)
    full_env.update(api.env())
    wrapper = ["/usr/bin/python3", "-I", "-S", "-c", _POD_WRAPPER, api.sa_dir, SERVICE_ACCOUNT_DIR, "--", *argv]
    return subprocess.Popen(wrapper, env=full_env, **popen_kwargs)


def run_in_pod_and_wait(api: APIServer, argv: list[str], env: dict | None = None,
                        timeout: float = 120) -> subprocess.CompletedProcess:
    """run_in_pod, then wait; stdout and stderr captured as text."""
    proc = run_in_pod(api, argv, env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"{argv} did not finish within {timeout} s; stderr: {err}")
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


if __name__ == "__main__":
    # Manual use: serve until interrupted, printing where and the service-account dir.
    with APIServer() as api:
        print(json.dumps({"host": api.host, "port": api.port, "sa_dir": api.sa_dir, "token_file":
                          os.path.join(api.sa_dir, "token")}), flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    sys.exit(0)
