// Unit tests of the runtime module: parsers on recorded responses (tests/fixtures), the cgroup
// scan's matcher and init picking, the fallback chain on a fake /proc, and the HTTP/CLI clients
// against local stand-ins (a unix-socket server thread, a fake crictl script).
#include "process.hpp"
#include "runtime.hpp"
#include "unix_http.hpp"

#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

using namespace stress;
namespace fs = std::filesystem;

namespace {

std::string fixture(const std::string& name) {
    std::ifstream in(std::string(FIXTURES_DIR) + "/" + name);
    REQUIRE(in.good());
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Runs `f` and returns the RuntimeError it throws (fails the test when it throws nothing or something else).
template <typename F>
RuntimeError runtime_error_of(F&& f) {
    try {
        f();
    } catch (const RuntimeError& e) {
        CHECK(e.code() == ErrorCode::ContainerRuntimeError);
        return e;
    }
    FAIL("no RuntimeError thrown");
    throw; // unreachable
}

struct TempDir {
    fs::path path;
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "runtime-test-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~TempDir() { fs::remove_all(path); }
};

void write_file(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
}

// A unix-socket server thread that answers one connection with `response` (or with nothing, and
// keeps the connection open until stopped, when `response` is empty).
class OneShotServer {
public:
    OneShotServer(const std::string& path, std::string response) : response_(std::move(response)) {
        fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(fd_ >= 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        REQUIRE(::listen(fd_, 4) == 0);
        thread_ = std::thread([this] {
            const int conn = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (conn < 0) return;
            std::string got;
            char buf[4096];
            while (got.find("\r\n\r\n") == std::string::npos) {
                const ssize_t n = ::read(conn, buf, sizeof buf);
                if (n <= 0) break;
                got.append(buf, static_cast<std::size_t>(n));
            }
            request_ = got;
            if (!response_.empty()) {
                (void)!::write(conn, response_.data(), response_.size());
            } else {
                while (!stop_) ::usleep(10000);
            }
            ::close(conn);
        });
    }
    ~OneShotServer() {
        stop_ = true;
        ::shutdown(fd_, SHUT_RDWR);
        thread_.join();
        ::close(fd_);
    }
    std::string request() {
        stop_ = true;
        thread_.join();
        thread_ = std::thread([] {});
        return request_;
    }

private:
    int fd_ = -1;
    std::string response_;
    std::string request_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

std::string http_response(int status, const std::string& reason, const std::string& body) {
    return "HTTP/1.1 " + std::to_string(status) + " " + reason +
           "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

} // namespace

// ---------------------------------------------------------------- parsers

TEST_CASE("docker inspect: State.Pid of a running container") {
    CHECK(parse_docker_inspect_pid(fixture("docker-inspect.json")) == 7925);
}

TEST_CASE("docker inspect: an exited container is not running") {
    const auto e = runtime_error_of([] { parse_docker_inspect_pid(fixture("docker-inspect-exited.json")); });
    CHECK(e.failure() == RuntimeFailure::NotRunning);
    CHECK_THAT(e.what(), Catch::Contains("not running") && Catch::Contains("exited") && Catch::Contains("137"));
}

TEST_CASE("docker inspect: a paused container is not running") {
    std::string json = fixture("docker-inspect.json");
    const auto at = json.find("\"Paused\":false");
    REQUIRE(at != std::string::npos);
    json.replace(at, 14, "\"Paused\":true");
    CHECK(runtime_error_of([&] { parse_docker_inspect_pid(json); }).failure() == RuntimeFailure::NotRunning);
}

TEST_CASE("docker inspect: the 404 body and garbage are not inspect responses") {
    CHECK(runtime_error_of([] { parse_docker_inspect_pid(fixture("docker-inspect-404.json")); }).failure() ==
          RuntimeFailure::Unavailable);
    CHECK(runtime_error_of([] { parse_docker_inspect_pid("<html>"); }).failure() == RuntimeFailure::Unavailable);
    CHECK(runtime_error_of([] { parse_docker_inspect_pid(R"({"State":{"Pid":"12"}})"); }).failure() ==
          RuntimeFailure::Unavailable);
}

TEST_CASE("crio inspect: .pid in the current and the 2017 format") {
    CHECK(parse_crio_inspect_pid(fixture("crio-inspect-container.json")) == 24013);
    CHECK(parse_crio_inspect_pid(fixture("crio-inspect-container-2017-testcomment.json")) == 27477);
}

TEST_CASE("crio inspect: pid 0 is not running, the 404 text is not JSON") {
    CHECK(runtime_error_of([] { parse_crio_inspect_pid(R"({"name":"x","pid":0})"); }).failure() ==
          RuntimeFailure::NotRunning);
    const auto e = runtime_error_of([] { parse_crio_inspect_pid(fixture("crio-inspect-404.txt")); });
    CHECK(e.failure() == RuntimeFailure::Unavailable);
}

TEST_CASE("crictl inspect: .info.pid for containerd and CRI-O") {
    CHECK(parse_crictl_inspect_pid(fixture("crictl-inspect-containerd.json")) == 9030);
    CHECK(parse_crictl_inspect_pid(fixture("crictl-inspect-crio.json")) == 24013);
}

TEST_CASE("crictl inspect: a top-level pid wins over info.pid") {
    CHECK(parse_crictl_inspect_pid(R"({"pid": 41, "info": {"pid": 42}})") == 41);
    CHECK(parse_crictl_inspect_pid(R"({"info": {"pid": 42}})") == 42);
}

TEST_CASE("crictl inspect: an exited container is not running even with info.pid set") {
    std::string json = fixture("crictl-inspect-containerd.json");
    const auto at = json.find("CONTAINER_RUNNING");
    REQUIRE(at != std::string::npos);
    json.replace(at, 17, "CONTAINER_EXITED");
    const auto e = runtime_error_of([&] { parse_crictl_inspect_pid(json); });
    CHECK(e.failure() == RuntimeFailure::NotRunning);
    CHECK_THAT(e.what(), Catch::Contains("CONTAINER_EXITED"));
    CHECK(runtime_error_of([] { parse_crictl_inspect_pid(R"({"info": {}})"); }).failure() ==
          RuntimeFailure::Unavailable);
}

// ---------------------------------------------------------------- cgroup scan: matching

TEST_CASE("cgroup scan: every recorded container cgroup names its container") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"cgroup-v1-containerd-cri.txt", "c78cd7b8530e9b03363c7ba5b0d1bca5da06575095d6af4d5c85ea8c8eec7b01"},
        {"cgroup-v2-cgroupfs-containerd.txt", "c78cd7b8530e9b03363c7ba5b0d1bca5da06575095d6af4d5c85ea8c8eec7b01"},
        {"cgroup-v1-docker-cgroupfs.txt", "ec3b60d7ed74ae940a5f11f178efc3de7826fb33040a2ee96006fe7fbf178467"},
        {"cgroup-v1-cgroupfs-containerd.txt", "5dd96d5394ca930a854a390ea46f7515a8bc930123eb3251ba20f2708a38fc61"},
        {"cgroup-v1-systemd-containerd.txt", "f45298cd514d1930c4fe3afc4412e59547f7e3148fddd22ca33cefce046eb830"},
        {"cgroup-v1-systemd-crio.txt", "d6d725b909f37c3e232aadfbafa950a58bfe7baa579ba8c47a12be88bb921607"},
        {"cgroup-v1-systemd-docker.txt", "b5b6f2da8008be266864f896f93789762b2ce50792114a5c5f2cc3315af0bc70"},
        {"cgroup-v1-containerd-systemd-colon-format.txt",
         "d3d8ccf5cca91931c6285c1d7472c413dd5a7700fddc0aa9f89a9ac7008b003e"},
        {"cgroup-v2-containerd-systemd.txt", "25d057a4c6c9555f2a0eb106e8896968c28f1c44aca4754174851aca7f89ad26"},
        {"cgroup-v2-crio-systemd.txt", "f33f47b0db740bb647cb3e7ac62d96c74966dbb99cbfaf4563bfd42d387e8b44"},
        {"cgroup-v2-crio-systemd-selfprobe.txt", "7b05b98b56047ad0e02e55f4e6bcffbcdc436340179a9c05908df1e5d4f0710d"},
        {"cgroup-v2-docker-systemd-k8s-seen-from-other-cgroupns.txt",
         "2cc65c162ca1388b6b8d5ccfb701d22fc96675ccf8b2f1590c490c2c4039547f"},
        {"cgroup-v2-docker-systemd-seen-from-other-cgroupns.txt",
         "1f1d6e2d4940ddac13abd421a2617992bf89f0e0f9a902ed58278c5f843e9ae7"},
        {"cgroup-hybrid-generated-cgroupns-same-pid-from-host.txt",
         "0ff831466c23031dd79c3976e0d481f730b85525cd4367cb7e7359fe853600a1"},
    };
    for (const auto& [file, id] : cases) {
        INFO(file);
        const std::string text = fixture(file);
        CHECK(proc_cgroup_names_container(text, id));
        // Another container's id, a prefix (short id) and an id with one digit changed do not match.
        CHECK_FALSE(proc_cgroup_names_container(text, "0000000000000000000000000000000000000000000000000000000000000000"));
        CHECK_FALSE(proc_cgroup_names_container(text, id.substr(0, 12)));
        std::string changed = id;
        changed.back() = changed.back() == '0' ? '1' : '0';
        CHECK_FALSE(proc_cgroup_names_container(text, changed));
        // Every id of the other files: none of them matches here.
        for (const auto& [other_file, other_id] : cases) {
            if (other_id != id) CHECK_FALSE(proc_cgroup_names_container(text, other_id));
        }
    }
}

TEST_CASE("cgroup scan: files that name no container match nothing") {
    for (const char* file : {"cgroup-v2-inside-private-cgroupns.txt", "cgroup-v2-host-pid1-seen-from-container-cgroupns.txt",
                             "cgroup-hybrid-generated-cgroupns-inside.txt",
                             "cgroup-hybrid-generated-host-pid1-from-inside-cgroupns.txt"}) {
        INFO(file);
        const std::string text = fixture(file);
        CHECK_FALSE(proc_cgroup_names_container(text, "0ff831466c23031dd79c3976e0d481f730b85525cd4367cb7e7359fe853600a1"));
        CHECK_FALSE(proc_cgroup_names_container(text, "init"));
        CHECK_FALSE(proc_cgroup_names_container(text, ".."));
    }
}

TEST_CASE("cgroup scan: path component forms") {
    const std::string id = "abc123";
    CHECK(cgroup_path_names_container("/kubepods/besteffort/pod1/abc123", id));
    CHECK(cgroup_path_names_container("/docker/abc123", id));
    CHECK(cgroup_path_names_container("/k8s.io/abc123", id));
    CHECK(cgroup_path_names_container("/kubepods.slice/x.slice/cri-containerd-abc123.scope", id));
    CHECK(cgroup_path_names_container("/x.slice/crio-abc123.scope", id));
    CHECK(cgroup_path_names_container("/x.slice/docker-abc123.scope", id));
    CHECK(cgroup_path_names_container("/machine.slice/libpod-abc123.scope", id));
    CHECK(cgroup_path_names_container("/kubepods-besteffort-pod1.slice:cri-containerd:abc123", id));
    CHECK(cgroup_path_names_container("/kubepods-besteffort-pod1.slice:crio:abc123", id));
    // a deeper cgroup inside the container (systemd in a container, nested cgroups)
    CHECK(cgroup_path_names_container("/kubepods/pod1/abc123/init.scope", id));

    CHECK_FALSE(cgroup_path_names_container("/x.slice/crio-conmon-abc123.scope", id)); // conmon: not in the container
    CHECK_FALSE(cgroup_path_names_container("/docker/abc1234", id));
    CHECK_FALSE(cgroup_path_names_container("/docker/xabc123", id));
    CHECK_FALSE(cgroup_path_names_container("/x.slice/evil-abc123.scope", id));
    CHECK_FALSE(cgroup_path_names_container("/x.slice/docker-abc123.service", id));
    CHECK_FALSE(cgroup_path_names_container("/slice:unknown:abc123", id));
    CHECK_FALSE(cgroup_path_names_container("/", id));
    CHECK_FALSE(cgroup_path_names_container("/abc123", ""));
}

// ---------------------------------------------------------------- cgroup scan: picking init

TEST_CASE("cgroup scan: init of the container's pid namespace is picked") {
    // 300 was put in the cgroup by someone else (parent 7 outside), and has a lower pid after pid wrap.
    CHECK(pick_container_init({{300, 7, 300}, {500, 490, 1}, {501, 500, 2}}) == 500);
}

TEST_CASE("cgroup scan: without pid namespaces, the process whose parent is outside the set") {
    CHECK(pick_container_init({{120, 110, 0}, {100, 90, 0}, {130, 120, 0}}) == 100);
    CHECK(pick_container_init({{130, 120, 0}, {120, 110, 0}}) == 120);
    // host-pid-namespace container (NSpid has one field = the pid itself)
    CHECK(pick_container_init({{130, 120, 130}, {120, 110, 120}}) == 120);
}

TEST_CASE("cgroup scan: lowest pid breaks ties, nothing gives 0") {
    CHECK(pick_container_init({{220, 5, 1}, {210, 6, 1}}) == 210);
    CHECK(pick_container_init({}) == 0);
}

TEST_CASE("cgroup scan: /proc stat and status parsing") {
    const auto st = parse_proc_stat("4242 (my (odd) comm) S 4100 4242 4242 0 -1 4194560 100 0 0 0");
    REQUIRE(st);
    CHECK(st->state == 'S');
    CHECK(st->ppid == 4100);
    CHECK(parse_proc_stat("77 (sleep) Z 1 77 77")->state == 'Z');
    CHECK_FALSE(parse_proc_stat("garbage"));
    CHECK_FALSE(parse_proc_stat("1 (x) S"));
    CHECK_FALSE(parse_proc_stat("1 (x) S -4 1"));
    CHECK_FALSE(parse_proc_stat("1 (x) S 12a 1"));

    CHECK(parse_status_ns_pid("Name:\tsleep\nPid:\t9030\nNSpid:\t9030\t1\nNSpgid:\t9030\t1\n") == 1);
    CHECK(parse_status_ns_pid("Name:\tbash\nNSpid:\t812\nNSpgid:\t812\n") == 812);
    CHECK(parse_status_ns_pid("Name:\tx\nPid:\t5\n") == 0);
}

TEST_CASE("cgroup scan backend on a fake /proc: finds init, skips zombies and /proc/1") {
    TempDir proc;
    const std::string id = "c78cd7b8530e9b03363c7ba5b0d1bca5da06575095d6af4d5c85ea8c8eec7b01";
    const std::string in_container = fixture("cgroup-v1-containerd-cri.txt");
    // 1 would match, but /proc/1 is never read; 50 is the shim (not in the container's cgroup);
    // 100 the init; 101 its child; 102 a zombie child; 200 an unrelated process.
    const auto add = [&](int pid, int ppid, char state, const std::string& cgroup, const std::string& nspid) {
        const fs::path dir = proc.path / std::to_string(pid);
        write_file(dir / "cgroup", cgroup);
        write_file(dir / "stat", std::to_string(pid) + " (sleep) " + state + " " + std::to_string(ppid) + " 1 1 0\n");
        write_file(dir / "status", "Name:\tsleep\nNSpid:\t" + nspid + "\n");
    };
    add(1, 0, 'S', in_container, "1");
    add(50, 2, 'S', "0::/system.slice/containerd.service\n", "50");
    add(100, 50, 'S', in_container, "100\t1");
    add(101, 100, 'S', in_container, "101\t2");
    add(102, 100, 'Z', in_container, "102\t3");
    add(200, 2, 'S', fixture("cgroup-v1-docker-cgroupfs.txt"), "200");
    fs::create_directories(proc.path / "self");

    auto scan = make_cgroup_scan_backend(proc.path.string());
    CHECK(scan->name() == "cgroup-scan");
    CHECK(scan->container_pid(id) == 100);
    CHECK(scan->container_pid("ec3b60d7ed74ae940a5f11f178efc3de7826fb33040a2ee96006fe7fbf178467") == 200);

    const auto e = runtime_error_of([&] { scan->container_pid("feedface"); });
    CHECK(e.failure() == RuntimeFailure::NotFound);
    CHECK_THAT(e.what(), Catch::Contains("cgroup-scan") && Catch::Contains(proc.path.string()) &&
                             Catch::Contains("feedface"));

    // Only the zombie left: not running rather than not found.
    fs::remove_all(proc.path / "100");
    fs::remove_all(proc.path / "101");
    CHECK(runtime_error_of([&] { scan->container_pid(id); }).failure() == RuntimeFailure::NotRunning);
}

// ---------------------------------------------------------------- sockets, ids, the chain

TEST_CASE("default sockets") {
    CHECK(default_socket("containerd") == "/run/containerd/containerd.sock");
    CHECK(default_socket("crio") == "/run/crio/crio.sock");
    CHECK(default_socket("docker") == "/run/docker.sock");
    try {
        default_socket("rkt");
        FAIL("no error");
    } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::HelperError);
        CHECK_THAT(e.what(), Catch::Contains("CONTAINER_RUNTIME=rkt"));
    }
}

TEST_CASE("make_runtime: an unknown runtime is a helper error") {
    RuntimeOptions options;
    options.runtime = "podman";
    try {
        make_runtime(options);
        FAIL("no error");
    } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::HelperError);
    }
}

TEST_CASE("backends: a missing socket names backend, socket and errno text") {
    std::vector<std::unique_ptr<RuntimeBackend>> backends;
    backends.push_back(make_containerd_backend("/nonexistent/containerd.sock", "k8s.io"));
    backends.push_back(make_docker_backend("unix:///nonexistent/containerd.sock"));
    backends.push_back(make_crio_backend("/nonexistent/containerd.sock"));
    backends.push_back(make_crictl_backend("/bin/false", "/nonexistent/containerd.sock"));
    for (auto& backend : backends) {
        INFO(backend->name());
        const auto e = runtime_error_of([&] { backend->container_pid("abc"); });
        CHECK(e.failure() == RuntimeFailure::Unavailable);
        CHECK_THAT(e.what(), Catch::StartsWith(backend->name() + ": unix:///nonexistent/containerd.sock: ") &&
                                 Catch::Contains("No such file or directory"));
    }
}

TEST_CASE("backends: a path that is not a socket, and ids that cannot be container ids") {
    TempDir dir;
    write_file(dir.path / "file.sock", "");
    const auto e = runtime_error_of([&] { make_docker_backend((dir.path / "file.sock").string())->container_pid("abc"); });
    CHECK_THAT(e.what(), Catch::Contains("not a unix socket"));
    for (const std::string& id : std::vector<std::string>{"", "..", ".", "../../etc", "a b", "x;rm", std::string(129, 'a')}) {
        INFO(id);
        const auto bad = runtime_error_of([&] { make_docker_backend("/nonexistent")->container_pid(id); });
        CHECK(bad.failure() == RuntimeFailure::NotFound);
        CHECK_THAT(bad.what(), Catch::Contains("invalid container id"));
    }
}

TEST_CASE("make_runtime: native failure falls back to the scan, with both failures named when it fails too") {
    TempDir proc;
    const std::string id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    write_file(proc.path / "4242" / "cgroup", "0::/kubepods/besteffort/pod1/" + id + "\n");
    write_file(proc.path / "4242" / "stat", "4242 (sleep) S 4000 1 1\n");
    write_file(proc.path / "4242" / "status", "NSpid:\t4242\t1\n");
    RuntimeOptions options;
    options.runtime = "containerd";
    options.socket_path = (proc.path / "missing.sock").string();
    options.proc_root = proc.path.string();
    auto runtime = make_runtime(options);
    CHECK(runtime->name() == "containerd");
    CHECK(runtime->container_pid(id) == 4242);

    const auto e = runtime_error_of([&] { runtime->container_pid("ffff"); });
    CHECK(e.failure() == RuntimeFailure::Unavailable);
    CHECK_THAT(e.what(), Catch::Contains("containerd: unix://" + options.socket_path) &&
                             Catch::Contains("No such file or directory") && Catch::Contains("cgroup-scan") &&
                             Catch::Contains("ffff"));
}

// ---------------------------------------------------------------- HTTP over a unix socket

TEST_CASE("unix_http_get: request line and Host, Content-Length and chunked bodies") {
    TempDir dir;
    const std::string sock = (dir.path / "http.sock").string();
    {
        OneShotServer server(sock, http_response(200, "OK", R"({"a":1})"));
        const auto response = unix_http_get(sock, "/containers/abc/json");
        CHECK(response.status == 200);
        CHECK(response.body == R"({"a":1})");
        const std::string request = server.request();
        CHECK_THAT(request, Catch::StartsWith("GET /containers/abc/json HTTP/1.1\r\n"));
        CHECK_THAT(request, Catch::Contains("Host: localhost\r\n"));
    }
    fs::remove(sock);
    {
        OneShotServer server(sock, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"pi\r\n6\r\nd\":12}\r\n0\r\n\r\n");
        CHECK(unix_http_get(sock, "/x").body == R"({"pid":12})");
    }
}

TEST_CASE("unix_http_get: refused connection and a silent server are errors, not hangs") {
    TempDir dir;
    const std::string sock = (dir.path / "http.sock").string();
    {
        OneShotServer server(sock, "");
        const auto start = std::chrono::steady_clock::now();
        try {
            unix_http_get(sock, "/x", {std::chrono::milliseconds(500), std::chrono::milliseconds(200)});
            FAIL("no error");
        } catch (const Error& e) {
            CHECK_THAT(e.what(), Catch::Contains("timed out after 200 ms") && Catch::Contains(sock));
        }
        CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
    }
    // The socket file stays, nobody listens: ECONNREFUSED.
    try {
        unix_http_get(sock, "/x");
        FAIL("no error");
    } catch (const Error& e) {
        CHECK_THAT(e.what(), Catch::Contains("connect " + sock) && Catch::Contains("Connection refused"));
    }
}

TEST_CASE("docker backend: 404 carries docker's message, 200 gives the pid") {
    TempDir dir;
    const std::string sock = (dir.path / "docker.sock").string();
    {
        OneShotServer server(sock, http_response(404, "Not Found", fixture("docker-inspect-404.json")));
        const auto e = runtime_error_of([&] { make_docker_backend(sock)->container_pid("0000deadbeef"); });
        CHECK(e.failure() == RuntimeFailure::NotFound);
        CHECK_THAT(e.what(), Catch::StartsWith("docker: unix://" + sock + ": ") &&
                                 Catch::Contains("No such container: 0000deadbeef"));
        CHECK_THAT(server.request(), Catch::StartsWith("GET /containers/0000deadbeef/json "));
    }
    fs::remove(sock);
    {
        OneShotServer server(sock, http_response(200, "OK", fixture("docker-inspect.json")));
        CHECK(make_docker_backend(sock)->container_pid("ec3b60d7ed74") == 7925);
    }
    fs::remove(sock);
    {
        // A 404 that is not about the container (wrong server, unsupported API path) is no answer.
        OneShotServer server(sock, http_response(404, "Not Found", R"({"message":"page not found"})"));
        const auto e = runtime_error_of([&] { make_docker_backend(sock)->container_pid("abc"); });
        CHECK(e.failure() == RuntimeFailure::Unavailable);
        CHECK_THAT(e.what(), Catch::Contains("HTTP 404") && Catch::Contains("page not found"));
    }
    fs::remove(sock);
    {
        OneShotServer server(sock, http_response(500, "Internal Server Error", R"({"message":"boom"})"));
        const auto e = runtime_error_of([&] { make_docker_backend(sock)->container_pid("abc"); });
        CHECK(e.failure() == RuntimeFailure::Unavailable);
        CHECK_THAT(e.what(), Catch::Contains("HTTP 500") && Catch::Contains("boom"));
    }
}

TEST_CASE("crio backend: GET /containers/{id}, 404 text") {
    TempDir dir;
    const std::string sock = (dir.path / "crio.sock").string();
    {
        OneShotServer server(sock, http_response(200, "OK", fixture("crio-inspect-container.json")));
        CHECK(make_crio_backend(sock)->container_pid("7b05b98b5604") == 24013);
        CHECK_THAT(server.request(), Catch::StartsWith("GET /containers/7b05b98b5604 HTTP/1.1"));
    }
    fs::remove(sock);
    {
        OneShotServer server(sock, http_response(404, "Not Found", fixture("crio-inspect-404.txt")));
        const auto e = runtime_error_of([&] { make_crio_backend(sock)->container_pid("0000deadbeef"); });
        CHECK(e.failure() == RuntimeFailure::NotFound);
        CHECK_THAT(e.what(), Catch::Contains("can't find the container with id 0000deadbeef"));
    }
    fs::remove(sock);
    {
        OneShotServer server(sock, http_response(404, "Not Found", "404 page not found\n"));
        const auto e = runtime_error_of([&] { make_crio_backend(sock)->container_pid("0000deadbeef"); });
        CHECK(e.failure() == RuntimeFailure::Unavailable);
        CHECK_THAT(e.what(), Catch::Contains("HTTP 404: 404 page not found"));
    }
}

// ---------------------------------------------------------------- crictl (a fake crictl script)

TEST_CASE("crictl backend: argv, stdout parsing, NotFound from stderr") {
    TempDir dir;
    const std::string sock = (dir.path / "crio.sock").string();
    OneShotServer listening(sock, "x"); // check_socket wants a socket; crictl itself is fake
    const fs::path fake = dir.path / "crictl";
    const fs::path args_file = dir.path / "args";
    // The fake records its argv, then answers like crictl: the fixture for one id, NotFound otherwise.
    write_file(fake, "#!/bin/sh\nprintf '%s\\n' \"$@\" > '" + args_file.string() +
                         "'\nif [ \"$6\" = good ]; then cat '" + std::string(FIXTURES_DIR) +
                         "/crictl-inspect-crio.json'; exit 0; fi\n"
                         "echo 'time=\"x\" level=fatal msg=\"getting the status of the container \\\"'$6'\\\": rpc "
                         "error: code = NotFound desc = not found\"' >&2\nexit 1\n");
    fs::permissions(fake, fs::perms::owner_all);

    auto backend = make_crictl_backend(fake.string(), sock);
    CHECK(backend->container_pid("good") == 24013);
    std::ifstream in(args_file);
    std::stringstream args;
    args << in.rdbuf();
    CHECK(args.str() == "-i\nunix://" + sock + "\n-r\nunix://" + sock + "\ninspect\ngood\n");

    const auto e = runtime_error_of([&] { backend->container_pid("bad"); });
    CHECK(e.failure() == RuntimeFailure::NotFound);
    CHECK_THAT(e.what(), Catch::StartsWith("crictl: unix://" + sock) && Catch::Contains("exit status 1") &&
                             Catch::Contains("code = NotFound"));
}

TEST_CASE("find_crictl looks in PATH only") {
    TempDir dir;
    const char* old = std::getenv("PATH");
    const std::string saved = old ? old : "";
    write_file(dir.path / "bin" / "crictl", "#!/bin/sh\n");
    fs::permissions(dir.path / "bin" / "crictl", fs::perms::owner_all);
    ::setenv("PATH", (dir.path.string() + "/nothing:" + (dir.path / "bin").string()).c_str(), 1);
    CHECK(find_crictl() == (dir.path / "bin" / "crictl").string());
    ::setenv("PATH", (dir.path.string() + "/nothing").c_str(), 1);
    CHECK(find_crictl().empty());
    ::setenv("PATH", saved.c_str(), 1);
}
