#!/usr/bin/python3
"""Builds the LIB_IMAGE (docker/Dockerfile) offline on this machine and exports it as an OCI archive.

No image registry is reachable here, only Debian's archive. So:
  1. base: `debootstrap --variant=minbase bookworm` from the mirror apt uses, slimmed the way the
     official debian:bookworm-slim image is (dpkg excludes for docs/man/locales, apt's docker-clean
     config, no apt lists), tarred once and cached;
  2. imported into a private buildah storage (vfs driver, under the cache dir) as
     localhost/debian:bookworm-slim;
  3. docker/Dockerfile built with `buildah bud` (that base as BASE_IMAGE, host network for apt,
     --pull=never: nothing is asked of any registry);
  4. smoke-checked (every binary's libraries resolve, helpers/stress-ng/nsexec start);
  5. pushed to an OCI archive (gzip layers), and the built image removed from the storage again.

Everything is cached under /var/cache/stress-helper-image/ (or --cache-dir): the base tar (made once;
--refresh-base makes it anew), the buildah storage holding the base, and the archive, whose name
carries a key over everything that goes into the image: the Dockerfile, .dockerignore, every file
the .dockerignore lets into the context, this script, the build arguments, the image name, the base.
Same key: the archive is reused and nothing is built.

    scripts/build-image.py                 # builds (or reuses); prints the archive's path
    scripts/build-image.py --json          # prints a JSON summary: archive, image, key, sizes, times
    scripts/build-image.py --tag registry.example.com/stress-helper:0.1.0 --out stress-helper.oci.tar

Exit status: 0 built or reused; 1 the build failed; 2 the image cannot be built on this machine (not
root, buildah or debootstrap missing, Debian's archive unreachable): the message says which.
Progress goes to stderr. Runs as root with /usr/bin/python3 (standard library only).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import fnmatch
import glob
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCKERFILE = os.path.join(REPO, "docker", "Dockerfile")
DOCKERIGNORE = os.path.join(REPO, ".dockerignore")

DEFAULT_CACHE = "/var/cache/stress-helper-image"
DEFAULT_TAG = "localhost/stress-helper:latest"
# The local stand-in for debian:bookworm-slim; a distinct name, so it is never taken for the real one.
BASE_NAME = "localhost/debian:bookworm-slim"
SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
DEFAULT_SECURITY = "http://deb.debian.org/debian-security"

CANNOT_BUILD = 2
# Bumped when the way the base is made changes, so that a cached base made the old way is remade.
BASE_RECIPE = 2


class CannotBuild(Exception):
    """The machine lacks something the build needs (not a fault of the Dockerfile or the sources)."""


class BuildFailed(Exception):
    pass


def log(msg: str) -> None:
    print(f"build-image: {msg}", file=sys.stderr, flush=True)


def run(argv: list[str], *, capture: bool = False, timeout: float | None = None, env=None) -> str:
    """Runs argv; output goes to our stderr unless captured. A failure raises BuildFailed with the
    command and (when captured) its output."""
    log("$ " + " ".join(argv))
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE if capture else sys.stderr,
                          stderr=subprocess.PIPE if capture else sys.stderr,
                          text=True, timeout=timeout, env=env)
    if proc.returncode != 0:
        detail = (": " + "\n".join(t.strip()[-2000:] for t in (proc.stdout, proc.stderr) if t and t.strip())
                  if capture else " (output above)")
        command = " ".join(argv)
        command = command if len(command) <= 300 else command[:300] + " …"
        raise BuildFailed(f"`{command}` exited with status {proc.returncode}{detail}")
    return proc.stdout if capture else ""


# ---------------------------------------------------------------------------------------------------
# Where apt gets Debian from

def _apt_source_entries():
    """(uri, suites, components) of every `deb` entry in apt's sources (one-line and deb822)."""
    entries = []
    one_line = ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list"))
    for path in one_line:
        try:
            lines = open(path).read().splitlines()
        except OSError:
            continue
        for line in lines:
            line = re.sub(r"\[[^]]*\]", " ", line.split("#", 1)[0]).split()
            if len(line) >= 3 and line[0] == "deb":
                entries.append((line[1], [line[2]], line[3:]))
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        try:
            text = open(path).read()
        except OSError:
            continue
        for stanza in re.split(r"\n\s*\n", text):
            fields = {}
            for line in stanza.splitlines():
                if line.startswith("#") or ":" not in line or line[:1].isspace():
                    continue
                key, value = line.split(":", 1)
                fields[key.strip().lower()] = value.split()
            if "deb" in fields.get("types", []) and fields.get("enabled", ["yes"])[0] != "no":
                for uri in fields.get("uris", []):
                    entries.append((uri, fields.get("suites", []), fields.get("components", [])))
    return entries


def apt_mirrors() -> tuple[str, str]:
    """(Debian mirror, security mirror) for bookworm main, as apt on this machine has them; the
    STRESS_IMAGE_MIRROR / STRESS_IMAGE_SECURITY_MIRROR environment variables win."""
    mirror = security = None
    for uri, suites, components in _apt_source_entries():
        if "main" not in components:
            continue
        if mirror is None and SUITE in suites:
            mirror = uri
        if security is None and f"{SUITE}-security" in suites:
            security = uri
    mirror = os.environ.get("STRESS_IMAGE_MIRROR") or mirror or DEFAULT_MIRROR
    security = os.environ.get("STRESS_IMAGE_SECURITY_MIRROR") or security or DEFAULT_SECURITY
    return mirror.rstrip("/"), security.rstrip("/")


def check_reachable(mirror: str) -> None:
    url = f"{mirror}/dists/{SUITE}/InRelease"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=30) as r:
            if r.status >= 400:
                raise CannotBuild(f"Debian's archive is not reachable: HEAD {url}: HTTP {r.status}")
    except (urllib.error.URLError, OSError) as e:
        raise CannotBuild(f"Debian's archive is not reachable: HEAD {url}: {e}") from e


# ---------------------------------------------------------------------------------------------------
# The base: debootstrap minbase, slimmed like debian:bookworm-slim

# What the official slim images leave out (debuerreotype's slimify), as dpkg path filters: applied to
# what debootstrap installed, and kept in the image for every later apt-get install.
SLIM_EXCLUDES = ["/usr/share/doc/*", "/usr/share/groff/*", "/usr/share/info/*", "/usr/share/linda/*",
                 "/usr/share/lintian/overrides/*", "/usr/share/locale/*", "/usr/share/man/*"]
SLIM_INCLUDES = ["/usr/share/doc/*/copyright", "/usr/share/locale/locale.alias"]

APT_CONFIG = {
    # The official images' apt config: no .deb or package caches left in a layer, no translations.
    "docker-clean": (
        'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb '
        '/var/cache/apt/*.bin || true"; };\n'
        'APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb '
        '/var/cache/apt/*.bin || true"; };\n'
        'Dir::Cache::pkgcache "";\nDir::Cache::srcpkgcache "";\n'),
    "docker-no-languages": 'Acquire::Languages "none";\n',
    "docker-gzip-indexes": 'Acquire::GzipIndexes "true";\n',
    "docker-autoremove-suggests": 'Apt::AutoRemove::SuggestsImportant "false";\n',
}


def _write(path: str, text: str, mode: int = 0o644) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def _empty_dir(path: str) -> None:
    if not os.path.isdir(path) or os.path.islink(path):
        return
    if os.path.ismount(path):  # never empty a live /proc or /dev
        raise BuildFailed(f"{path} is still a mount point; not emptying it")
    for name in os.listdir(path):
        p = os.path.join(path, name)
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p)
        else:
            os.unlink(p)


def configure(rootfs: str, mirror: str, security: str) -> None:
    """The slim image's dpkg and apt configuration, and apt sources for bookworm, -updates, -security."""
    dpkg_cfg = "".join(f"path-exclude {p}\n" for p in SLIM_EXCLUDES) + \
        "".join(f"path-include {p}\n" for p in SLIM_INCLUDES)
    _write(f"{rootfs}/etc/dpkg/dpkg.cfg.d/docker", "# as debian:bookworm-slim: no docs, man pages, locales\n"
           + dpkg_cfg)
    for name, text in APT_CONFIG.items():
        _write(f"{rootfs}/etc/apt/apt.conf.d/{name}", text)
    # Package scripts must not start services during a build.
    _write(f"{rootfs}/usr/sbin/policy-rc.d", "#!/bin/sh\nexit 101\n", 0o755)
    _write(f"{rootfs}/etc/apt/sources.list.d/debian.sources",
           f"Types: deb\nURIs: {mirror}\nSuites: {SUITE} {SUITE}-updates\nComponents: main\n"
           "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
           f"Types: deb\nURIs: {security}\nSuites: {SUITE}-security\nComponents: main\n"
           "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(f"{rootfs}/etc/apt/sources.list")


def upgrade(rootfs: str) -> None:
    """debootstrap installs the point release; the official images carry -updates and -security too."""
    shutil.copyfile("/etc/resolv.conf", f"{rootfs}/etc/resolv.conf")
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C"}
    run(["mount", "-t", "proc", "proc", f"{rootfs}/proc"])
    try:
        run(["chroot", rootfs, "apt-get", "update", "-q"], env=env)
        run(["chroot", rootfs, "apt-get", "dist-upgrade", "-y", "-q", "--no-install-recommends",
             "-o", "Dpkg::Options::=--force-confold"], env=env)
        run(["chroot", rootfs, "apt-get", "clean"], env=env)
    finally:
        _unmount_under(rootfs)


def slim(rootfs: str) -> None:
    """Removes what the dpkg excludes would have kept out, and what belongs to the machine
    debootstrap ran on or is cache."""
    for top in ("usr/share/doc", "usr/share/groff", "usr/share/info", "usr/share/linda",
                "usr/share/lintian/overrides", "usr/share/locale", "usr/share/man"):
        base = os.path.join(rootfs, top)
        for dirpath, _, files in os.walk(base, topdown=False):
            for name in files:
                p = os.path.join(dirpath, name)
                inner = "/" + os.path.relpath(p, rootfs)
                if not any(fnmatch.fnmatch(inner, inc) for inc in SLIM_INCLUDES):
                    os.unlink(p)
            if dirpath != base and not os.listdir(dirpath):
                os.rmdir(dirpath)
    for d in ("dev", "proc", "run", "tmp", "var/tmp", "var/log", "var/cache/apt", "var/lib/apt/lists"):
        _empty_dir(os.path.join(rootfs, d))
    os.makedirs(f"{rootfs}/var/lib/apt/lists/partial", exist_ok=True)
    os.makedirs(f"{rootfs}/var/cache/apt/archives/partial", exist_ok=True)
    for f in ("etc/resolv.conf", "etc/hostname", "var/cache/ldconfig/aux-cache",
              "var/cache/debconf/config.dat-old", "var/cache/debconf/templates.dat-old",
              "var/lib/dpkg/status-old", "var/lib/dpkg/diversions-old"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(rootfs, f))
    if os.path.exists(f"{rootfs}/etc/machine-id"):
        _write(f"{rootfs}/etc/machine-id", "", 0o444)


def _unmount_under(path: str) -> None:
    """debootstrap mounts /proc and /sys in the rootfs; a failed run can leave them."""
    prefix = os.path.realpath(path).rstrip("/") + "/"
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f]
    for mp in sorted((p for p in points if (p + "/").startswith(prefix)), key=len, reverse=True):
        subprocess.run(["umount", "--lazy", mp], check=False)


def dpkg_arch() -> str:
    return subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                          check=True).stdout.strip()


def make_base(cache: str, mirror: str, security: str, refresh: bool, figures: dict) -> tuple[str, str]:
    """(path, sha256) of the base rootfs tar, made with debootstrap when missing."""
    base_dir = os.path.join(cache, "base")
    os.makedirs(base_dir, exist_ok=True)
    tar_path = os.path.join(base_dir, f"{SUITE}-minbase-slim.tar")
    meta_path = tar_path + ".json"
    if not refresh and os.path.exists(tar_path) and os.path.exists(meta_path):
        with open(meta_path) as f:
            meta = json.load(f)
        if (meta.get("mirror"), meta.get("security"), meta.get("recipe")) == (mirror, security, BASE_RECIPE):
            return tar_path, meta["sha256"]
    check_reachable(mirror)
    t0 = time.monotonic()
    rootfs = tempfile.mkdtemp(prefix="rootfs-", dir=base_dir)
    try:
        run(["debootstrap", "--variant=minbase", f"--arch={dpkg_arch()}", SUITE, rootfs, mirror])
        configure(rootfs, mirror, security)
        upgrade(rootfs)
        slim(rootfs)
        tmp = tar_path + ".tmp"
        run(["tar", "--create", "--file", tmp, "--directory", rootfs, "--numeric-owner", "--sort=name", "."])
        sha = _sha256_file(tmp)
        os.replace(tmp, tar_path)
        with open(meta_path, "w") as f:
            json.dump({"sha256": sha, "recipe": BASE_RECIPE, "mirror": mirror, "security": security, "suite": SUITE,
                       "made": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, f, indent=1)
    finally:
        _unmount_under(rootfs)
        shutil.rmtree(rootfs, ignore_errors=True)
    figures["base_seconds"] = round(time.monotonic() - t0, 1)
    log(f"base made in {figures['base_seconds']} s: {tar_path}")
    return tar_path, sha


def _sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------------
# buildah with a private vfs storage

class Buildah:
    def __init__(self, cache: str):
        self.root = os.path.join(cache, "storage")
        # Transient state (locks); removed when we are done, so nothing is left in /run.
        self.runroot = os.path.join("/run", "stress-helper-image")
        self.policy = os.path.join(cache, "policy.json")
        _write(self.policy, json.dumps({"default": [{"type": "insecureAcceptAnything"}]}) + "\n")

    def argv(self, *args: str) -> list[str]:
        return ["buildah", "--root", self.root, "--runroot", self.runroot, "--storage-driver", "vfs", *args]

    def __call__(self, *args: str, capture: bool = False) -> str:
        # Our registries.conf: no search registries, so a short name can never turn into a pull.
        env = dict(os.environ, CONTAINERS_REGISTRIES_CONF=self._registries_conf())
        return run(self.argv(*args), capture=capture, env=env)

    def _registries_conf(self) -> str:
        path = os.path.join(os.path.dirname(self.policy), "registries.conf")
        if not os.path.exists(path):
            _write(path, "unqualified-search-registries = []\nshort-name-mode = \"enforcing\"\n")
        return path

    def image_id(self, name: str) -> str | None:
        try:
            out = self("images", "--noheading", "--no-trunc", "--format", "{{.ID}}", name, capture=True)
        except BuildFailed:
            return None
        return out.split()[0] if out.split() else None

    def cleanup(self) -> None:
        shutil.rmtree(self.runroot, ignore_errors=True)


def import_base(b: Buildah, tar_path: str, sha: str, cache: str, figures: dict) -> None:
    """The base tar as BASE_NAME in the storage, unless the same tar is there already."""
    marker = os.path.join(cache, "storage-base.sha256")
    try:
        with open(marker) as f:
            if f.read().strip() == sha and b.image_id(BASE_NAME):
                return
    except FileNotFoundError:
        pass
    t0 = time.monotonic()
    ctr = b("from", "--pull=never", "scratch", capture=True).strip()
    try:
        b("add", ctr, tar_path, "/")
        b("config", "--env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
          "--cmd", "bash", "--created-by", f"scripts/build-image.py: debootstrap --variant=minbase {SUITE}, slimmed",
          ctr)
        b("commit", "--quiet", "--format", "oci", "--signature-policy", b.policy, ctr, BASE_NAME)
    finally:
        b("rm", ctr, capture=True)
    with open(marker, "w") as f:
        f.write(sha + "\n")
    figures["import_base_seconds"] = round(time.monotonic() - t0, 1)


# ---------------------------------------------------------------------------------------------------
# The cache key

def context_paths() -> list[str]:
    """The paths .dockerignore lets into the context (its "!" lines)."""
    out = []
    with open(DOCKERIGNORE) as f:
        for line in f:
            line = line.strip()
            if line.startswith("!"):
                out.append(line[1:].strip("/"))
    if not out:
        raise BuildFailed(f"{DOCKERIGNORE}: no '!path' lines: expected an allow-list of the build context")
    return sorted(out)


def cache_key(base_sha: str, build_args: dict, tag: str) -> str:
    h = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        h.update(f"{label}\0{len(data)}\0".encode())
        h.update(data)

    for path in (DOCKERFILE, DOCKERIGNORE, os.path.abspath(__file__)):
        with open(path, "rb") as f:
            add(os.path.relpath(path, REPO), f.read())
    for rel in context_paths():
        top = os.path.join(REPO, rel)
        files = [top] if os.path.isfile(top) else sorted(
            os.path.join(d, n) for d, dirs, names in os.walk(top) for n in names
            if "__pycache__" not in d and not n.endswith(".pyc"))
        if not files:
            raise BuildFailed(f"{top}: named in {DOCKERIGNORE} but missing or empty")
        for p in files:
            with open(p, "rb") as f:
                add(f"{os.path.relpath(p, REPO)}:{os.stat(p).st_mode & 0o111:o}", f.read())
    add("build-args", json.dumps(build_args, sort_keys=True).encode())
    add("tag", tag.encode())
    add("base", base_sha.encode())
    return h.hexdigest()


def project_version() -> str:
    with open(os.path.join(REPO, "CMakeLists.txt")) as f:
        m = re.search(r"project\([^)]*VERSION\s+([0-9][0-9.]*)", f.read())
    return m.group(1) if m else "dev"


# ---------------------------------------------------------------------------------------------------
# Figures from the archive itself

def archive_figures(archive: str) -> dict:
    """Layer count, compressed size (the layer blobs as pushed, gzip) and uncompressed size (the
    layer tars), from the OCI archive's own index, manifest and blobs."""
    with tarfile.open(archive) as tf:
        def blob(digest: str):
            return tf.extractfile("blobs/" + digest.replace(":", "/"))
        index = json.load(tf.extractfile("index.json"))
        desc = index["manifests"][0]
        manifest = json.load(blob(desc["digest"]))
        compressed = uncompressed = 0
        media = set()
        for layer in manifest["layers"]:
            compressed += layer["size"]
            media.add(layer["mediaType"])
            f = blob(layer["digest"])
            stream = gzip.GzipFile(fileobj=f) if layer["mediaType"].endswith("gzip") else f
            for chunk in iter(lambda: stream.read(1 << 20), b""):
                uncompressed += len(chunk)
        config = json.load(blob(manifest["config"]["digest"]))
    return {
        "layers": len(manifest["layers"]),
        "layer_media_types": sorted(media),
        "compressed_bytes": compressed,
        "uncompressed_bytes": uncompressed,
        "archive_bytes": os.path.getsize(archive),
        "image_ref": desc.get("annotations", {}).get("org.opencontainers.image.ref.name", ""),
        "manifest_digest": desc["digest"],
        "working_dir": config.get("config", {}).get("WorkingDir", ""),
    }


# ---------------------------------------------------------------------------------------------------

SMOKE = r"""
set -e
for f in ./helpers /usr/local/bin/nsexec /usr/local/lib/libnsenter.so "$(command -v stress-ng)"; do
  if ldd "$f" | grep -q 'not found'; then echo "smoke: $f: missing libraries:"; ldd "$f" | grep 'not found'; exit 1; fi
done
./helpers --version
stress-ng --version
nsexec --help >/dev/null
test -s /etc/ssl/certs/ca-certificates.crt
test "$(id -u)" = 0
echo "smoke: ok in $(pwd)"
"""


def build(b: Buildah, tag: str, build_args: dict, archive: str, figures: dict) -> None:
    t0 = time.monotonic()
    argv = ["bud", "--pull=never", "--network", "host", "--layers=false", "--force-rm", "--format", "oci",
            "--signature-policy", b.policy, "--file", DOCKERFILE, "--tag", tag]
    for k, v in sorted(build_args.items()):
        argv += ["--build-arg", f"{k}={v}"]
    b(*argv, REPO)
    figures["build_seconds"] = round(time.monotonic() - t0, 1)
    try:
        ctr = b("from", "--pull=never", tag, capture=True).strip()
        try:
            print(b("run", ctr, "--", "/bin/bash", "-c", SMOKE, capture=True), file=sys.stderr, end="")
        finally:
            b("rm", ctr, capture=True)
        t1 = time.monotonic()
        tmp = archive + ".tmp"
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        b("push", "--quiet", "--format", "oci", "--signature-policy", b.policy, tag, f"oci-archive:{tmp}:{tag}")
        os.replace(tmp, archive)
        figures["export_seconds"] = round(time.monotonic() - t1, 1)
    finally:
        # The archive is the product; the storage keeps only the base (vfs copies are whole file trees).
        with contextlib.suppress(BuildFailed):
            b("rmi", tag, capture=True)
        with contextlib.suppress(BuildFailed):
            b("rmi", "--prune", capture=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tag", default=DEFAULT_TAG, help=f"image name in the archive (default {DEFAULT_TAG})")
    p.add_argument("--out", help="also copy the archive to this path")
    p.add_argument("--cache-dir", default=os.environ.get("STRESS_IMAGE_CACHE", DEFAULT_CACHE))
    p.add_argument("--rebuild", action="store_true", help="build even if an archive with the same key exists")
    p.add_argument("--refresh-base", action="store_true", help="run debootstrap again (e.g. for Debian updates)")
    p.add_argument("--crictl-version", default="", help="add crictl (fetched from GitHub: needs the network)")
    p.add_argument("--crictl-sha256", default="")
    p.add_argument("--json", action="store_true", help="print a JSON summary instead of the archive's path")
    args = p.parse_args()

    started = time.monotonic()
    figures: dict = {}
    try:
        if os.geteuid() != 0:
            raise CannotBuild("must run as root (debootstrap, and buildah's storage under the cache dir)")
        missing = [t for t in ("buildah", "debootstrap", "tar") if not shutil.which(t)]
        if missing:
            raise CannotBuild(f"{', '.join(missing)} not installed (apt-get install buildah debootstrap; "
                              "scripts/setup.sh installs them)")
        cache = os.path.abspath(args.cache_dir)
        os.makedirs(cache, exist_ok=True)
        lock = open(os.path.join(cache, ".lock"), "w")
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build at a time per cache; released at exit
        mirror, security = apt_mirrors()
        b = Buildah(cache)
        try:
            base_tar, base_sha = make_base(cache, mirror, security, args.refresh_base, figures)
            build_args = {"BASE_IMAGE": BASE_NAME, "VERSION": project_version()}
            if args.crictl_version:
                build_args.update(CRICTL_VERSION=args.crictl_version, CRICTL_SHA256=args.crictl_sha256)
            key = cache_key(base_sha, build_args, args.tag)
            archive = os.path.join(cache, f"stress-helper-{key[:16]}.oci.tar")
            summary_path = archive + ".json"
            reused = os.path.exists(archive) and os.path.exists(summary_path) and not args.rebuild
            if reused:
                log(f"sources unchanged (key {key[:16]}): reusing {archive}")
                with open(summary_path) as f:
                    summary = json.load(f)
            else:
                check_reachable(mirror)
                import_base(b, base_tar, base_sha, cache, figures)
                build(b, args.tag, build_args, archive, figures)
                figures["total_seconds"] = round(time.monotonic() - started, 1)
                summary = {"archive": archive, "image": args.tag, "key": key, "base_sha256": base_sha,
                           "mirror": mirror, "build_args": build_args,
                           "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                           "times": figures, **archive_figures(archive)}
                with open(summary_path, "w") as f:
                    json.dump(summary, f, indent=1)
                # Older archives are stale: keep only this one.
                for old in glob.glob(os.path.join(cache, "stress-helper-*.oci.tar*")):
                    if not old.startswith(archive):
                        os.unlink(old)
            summary["reused"] = reused
            summary["seconds_this_run"] = round(time.monotonic() - started, 1)
        finally:
            b.cleanup()
        if args.out:
            shutil.copyfile(archive, args.out)
            log(f"copied to {args.out}")
        log(f"{summary['image']}: {summary['layers']} layers, {summary['compressed_bytes'] / 1e6:.1f} MB "
            f"compressed, {summary['uncompressed_bytes'] / 1e6:.1f} MB uncompressed")
        print(json.dumps(summary, indent=1) if args.json else archive)
        return 0
    except CannotBuild as e:
        log(f"cannot build the image on this machine: {e}")
        return CANNOT_BUILD
    except (BuildFailed, subprocess.TimeoutExpired) as e:
        log(f"failed: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
