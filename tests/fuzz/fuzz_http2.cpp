// containerd's side of the gRPC call as raw bytes: HTTP/2 frames (SETTINGS, HEADERS with HPACK,
// DATA, RST_STREAM, GOAWAY…) fed to the helper's one unary call (helper/grpc_unix.cpp: libnghttp2
// and our callbacks for headers, trailers, data and the gRPC framing). A unix-socket server thread
// answers each call with the input, then closes; the call is bounded by a short deadline.
#include "fuzz_common.hpp"
#include "grpc_unix.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace {

char g_dir[] = "/tmp/fuzz-http2-XXXXXX";

// The socket and its directory go when the fuzzer exits (libFuzzer ends with exit()).
void remove_socket_dir() {
    ::unlink((std::string(g_dir) + "/s.sock").c_str());
    ::rmdir(g_dir);
}

std::string socket_path() {
    static const std::string path = [] {
        if (!::mkdtemp(g_dir)) std::abort();
        std::atexit(remove_socket_dir);
        return std::string(g_dir) + "/s.sock";
    }();
    return path;
}

int listener() {
    static const int fd = [] {
        int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, socket_path().c_str(), sizeof addr.sun_path - 1);
        if (s < 0 || ::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(s, 4) != 0)
            std::abort();
        return s;
    }();
    return fd;
}

// Accepts one connection, sends `bytes`, stops sending, and drains until the client hangs up.
void answer(std::string bytes) {
    int c = ::accept4(listener(), nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return;
    for (size_t off = 0; off < bytes.size();) {
        ssize_t n = ::send(c, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
        if (n <= 0) break;
        off += static_cast<size_t>(n);
    }
    ::shutdown(c, SHUT_WR);
    char buf[4096];
    pollfd p{c, POLLIN, 0};
    while (::poll(&p, 1, 1000) > 0 && ::read(c, buf, sizeof buf) > 0) {
    }
    ::close(c);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    (void)listener(); // bound and listening before the client connects
    std::thread server(answer, std::string(fuzz::text(data, size)));
    stress::GrpcUnaryRequest request;
    request.socket_path = socket_path();
    request.method = "/containerd.services.tasks.v1.Tasks/Get";
    request.metadata = {{"containerd-namespace", "k8s.io"}};
    request.message = std::string("\x0a\x02id", 4);
    request.timeout = std::chrono::milliseconds(300);
    request.max_response_bytes = 1 << 16;
    try {
        (void)stress::grpc_unix_call(request);
    } catch (const stress::Error&) {
    }
    server.join();
    return 0;
}
