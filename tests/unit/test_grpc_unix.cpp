// Unit tests of grpc_unix (the unary gRPC call over HTTP/2 on a unix socket) and of the containerd
// backend on top of it: the pure framing / percent-decoding / timeout / status helpers, then real
// calls against a fake gRPC server in a thread (nghttp2 on the server side too) that answers
// normally, trailers-only, with RST_STREAM, GOAWAY, silence, a hang-up or a non-gRPC HTTP answer.
#include "grpc_unix.hpp"
#include "runtime.hpp"

#include <github.com/containerd/containerd/api/services/tasks/v1/tasks.pb.h>

#include <catch2/catch.hpp>
#include <nghttp2/nghttp2.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <thread>

using namespace stress;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

TEST_CASE("grpc_frame: flag 0 and a big-endian length before the message") {
    CHECK(grpc_frame("") == std::string("\0\0\0\0\0", 5));
    CHECK(grpc_frame("ab") == std::string("\0\0\0\0\2ab", 7));
    const std::string big(0x010203, 'x');
    const std::string framed = grpc_frame(big);
    REQUIRE(framed.size() == big.size() + 5);
    CHECK(framed.substr(0, 5) == std::string("\0\0\x01\x02\x03", 5));
}

TEST_CASE("grpc_unframe: messages back, bad bodies named") {
    CHECK(grpc_unframe("", 100).empty());
    CHECK(grpc_unframe(grpc_frame(""), 100) == std::vector<std::string>{""});
    CHECK(grpc_unframe(grpc_frame("one") + grpc_frame("two"), 100) == std::vector<std::string>{"one", "two"});
    const auto error_of = [](const std::string& body, std::size_t max) -> std::string {
        try {
            grpc_unframe(body, max);
        } catch (const Error& e) { // the project's error type (found by fuzzing: it was std::runtime_error)
            CHECK(e.code() == ErrorCode::ContainerRuntimeError);
            return e.what();
        }
        return "no error";
    };
    CHECK_THAT(error_of(std::string("\0\0\0", 3), 100), Catch::Contains("truncated gRPC message prefix (3 of 5"));
    CHECK_THAT(error_of(grpc_frame("hello").substr(0, 7), 100), Catch::Contains("truncated gRPC message (2 of 5"));
    std::string compressed = grpc_frame("zz");
    compressed[0] = 1;
    CHECK_THAT(error_of(compressed, 100), Catch::Contains("compressed"));
    compressed[0] = 7;
    CHECK_THAT(error_of(compressed, 100), Catch::Contains("bad gRPC message flag 7"));
    CHECK_THAT(error_of(grpc_frame("0123456789"), 9), Catch::Contains("10 bytes, more than the limit of 9"));
}

TEST_CASE("grpc_percent_decode: %XX decoded, invalid escapes kept") {
    CHECK(grpc_percent_decode("") == "");
    CHECK(grpc_percent_decode("plain text") == "plain text");
    CHECK(grpc_percent_decode("task abc not found%3A %25 done") == "task abc not found: % done");
    CHECK(grpc_percent_decode("caf%C3%a9") == "caf\xC3\xA9");
    CHECK(grpc_percent_decode("line%0Anext") == "line\nnext");
    CHECK(grpc_percent_decode("100%") == "100%");
    CHECK(grpc_percent_decode("50%z1") == "50%z1");
    CHECK(grpc_percent_decode("%4") == "%4");
    CHECK(grpc_percent_decode("%%41") == "%A");
}

TEST_CASE("grpc_timeout_value: at most 8 digits, rounded up") {
    CHECK(grpc_timeout_value(5000ms) == "5000m");
    CHECK(grpc_timeout_value(1ms) == "1m");
    CHECK(grpc_timeout_value(0ms) == "0m");
    CHECK(grpc_timeout_value(-3ms) == "0m");
    CHECK(grpc_timeout_value(99'999'999ms) == "99999999m");
    CHECK(grpc_timeout_value(100'000'000ms) == "100000S");
    CHECK(grpc_timeout_value(100'000'001ms) == "100001S");
    CHECK(grpc_timeout_value(std::chrono::milliseconds(200'000'000'000LL)) == "3333334M");
}

TEST_CASE("grpc status: names and parsing") {
    CHECK(grpc_status_name(0) == "OK");
    CHECK(grpc_status_name(4) == "DEADLINE_EXCEEDED");
    CHECK(grpc_status_name(5) == "NOT_FOUND");
    CHECK(grpc_status_name(14) == "UNAVAILABLE");
    CHECK(grpc_status_name(16) == "UNAUTHENTICATED");
    CHECK(grpc_status_name(17) == "CODE_17");
    CHECK(grpc_status_name(-1) == "CODE_-1");
    CHECK(parse_grpc_status("0") == 0);
    CHECK(parse_grpc_status("5") == 5);
    CHECK(parse_grpc_status("16") == 16);
    CHECK_FALSE(parse_grpc_status(""));
    CHECK_FALSE(parse_grpc_status("-1"));
    CHECK_FALSE(parse_grpc_status("5 "));
    CHECK_FALSE(parse_grpc_status("1234"));
    CHECK_FALSE(parse_grpc_status("OK"));
}

namespace {

// How the fake server answers the one request of its one connection.
struct FakeReply {
    enum class Kind {
        Normal,        // HEADERS, DATA (the framed message), trailers
        TrailersOnly,  // one HEADERS frame with grpc-status, END_STREAM
        Reset,         // RST_STREAM(h2_error)
        Goaway,        // GOAWAY(last stream 0, h2_error): the request was never processed
        Silent,        // nothing, until the client goes away
        HangUp,        // close the connection after reading the request
        Http503,       // a non-gRPC HTTP answer
        NoTrailers,    // HEADERS, DATA, END_STREAM on the DATA: no grpc-status at all
    };
    Kind kind = Kind::Normal;
    std::string message;        // Normal: the response message (framed by the server)
    std::optional<std::string> raw_body;   // Normal: sent as is instead of the framed message
    std::string grpc_status = "0";
    std::string grpc_message;   // sent as is (already percent-encoded)
    std::uint32_t h2_error = NGHTTP2_INTERNAL_ERROR;
};

// What the server saw.
struct SeenRequest {
    std::map<std::string, std::string> headers;
    std::string body;
    bool ping_acked = false;
    bool request_complete = false;
};

// A one-connection HTTP/2 server on a unix socket in a temp dir. It sends a PING first and answers
// only once the PING is acked and the request is complete, so a client that does not ack PINGs
// (or SETTINGS: nghttp2 sends GOAWAY on a SETTINGS timeout only much later) hangs and fails.
class FakeGrpcServer {
public:
    explicit FakeGrpcServer(FakeReply reply) : reply_(std::move(reply)) {
        std::string tmpl = (fs::temp_directory_path() / "grpc-unix-test-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        dir_ = tmpl;
        socket_path_ = (dir_ / "fake.sock").string();
        listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(listen_fd_ >= 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, socket_path_.c_str(), sizeof(addr.sun_path) - 1);
        REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
        REQUIRE(::listen(listen_fd_, 4) == 0);
        thread_ = std::thread([this] { serve(); });
    }
    ~FakeGrpcServer() {
        finish();
        ::close(listen_fd_);
        fs::remove_all(dir_);
    }
    const std::string& socket_path() const { return socket_path_; }
    // Waits for the connection to end (the client closes it after its call) and returns what came.
    const SeenRequest& seen() {
        finish();
        return seen_;
    }

private:
    void finish() {
        if (thread_.joinable()) thread_.join();
    }

    static int on_header(nghttp2_session*, const nghttp2_frame*, const std::uint8_t* name, std::size_t namelen,
                         const std::uint8_t* value, std::size_t valuelen, std::uint8_t, void* self) {
        static_cast<FakeGrpcServer*>(self)->seen_.headers[std::string(reinterpret_cast<const char*>(name), namelen)] =
            std::string(reinterpret_cast<const char*>(value), valuelen);
        return 0;
    }
    static int on_data(nghttp2_session*, std::uint8_t, std::int32_t, const std::uint8_t* data, std::size_t len,
                       void* self) {
        static_cast<FakeGrpcServer*>(self)->seen_.body.append(reinterpret_cast<const char*>(data), len);
        return 0;
    }
    static int on_frame(nghttp2_session* session, const nghttp2_frame* frame, void* self_ptr) {
        auto* self = static_cast<FakeGrpcServer*>(self_ptr);
        if (frame->hd.type == NGHTTP2_PING && (frame->hd.flags & NGHTTP2_FLAG_ACK)) self->seen_.ping_acked = true;
        if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
            (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
            self->seen_.request_complete = true;
            self->stream_id_ = frame->hd.stream_id;
        }
        if (self->seen_.ping_acked && self->seen_.request_complete && !self->answered_) {
            self->answered_ = true;
            self->answer(session);
        }
        return 0;
    }
    static ssize_t read_body(nghttp2_session* session, std::int32_t stream_id, std::uint8_t* buf, std::size_t length,
                             std::uint32_t* flags, nghttp2_data_source*, void* self_ptr) {
        auto* self = static_cast<FakeGrpcServer*>(self_ptr);
        const std::size_t n = std::min(length, self->body_.size() - self->body_sent_);
        std::memcpy(buf, self->body_.data() + self->body_sent_, n);
        self->body_sent_ += n;
        if (self->body_sent_ == self->body_.size()) {
            *flags |= NGHTTP2_DATA_FLAG_EOF;
            if (self->reply_.kind == FakeReply::Kind::Normal) {
                *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
                auto trailers = self->nva({{"grpc-status", self->reply_.grpc_status},
                                           {"grpc-message", self->reply_.grpc_message}});
                nghttp2_submit_trailer(session, stream_id, trailers.data(), trailers.size());
            }
        }
        return static_cast<ssize_t>(n);
    }

    // The strings live in held_ (a deque: stable addresses) until the server ends.
    std::vector<nghttp2_nv> nva(const std::vector<std::pair<std::string, std::string>>& fields) {
        std::vector<nghttp2_nv> out;
        for (const auto& field : fields) {
            const auto& [n, v] = held_.emplace_back(field);
            out.push_back({reinterpret_cast<std::uint8_t*>(const_cast<char*>(n.data())),
                           reinterpret_cast<std::uint8_t*>(const_cast<char*>(v.data())), n.size(), v.size(),
                           NGHTTP2_NV_FLAG_NONE});
        }
        return out;
    }

    void answer(nghttp2_session* session) {
        using K = FakeReply::Kind;
        nghttp2_data_provider provider{};
        provider.read_callback = read_body;
        switch (reply_.kind) {
        case K::Normal:
        case K::NoTrailers: {
            body_ = reply_.raw_body ? *reply_.raw_body : grpc_frame(reply_.message);
            auto headers = nva({{":status", "200"}, {"content-type", "application/grpc"}});
            nghttp2_submit_response(session, stream_id_, headers.data(), headers.size(), &provider);
            break;
        }
        case K::TrailersOnly: {
            auto headers = nva({{":status", "200"},
                                {"content-type", "application/grpc"},
                                {"grpc-status", reply_.grpc_status},
                                {"grpc-message", reply_.grpc_message}});
            nghttp2_submit_response(session, stream_id_, headers.data(), headers.size(), nullptr);
            break;
        }
        case K::Http503: {
            body_ = "overloaded";
            auto headers = nva({{":status", "503"}, {"content-type", "text/plain"}});
            nghttp2_submit_response(session, stream_id_, headers.data(), headers.size(), &provider);
            break;
        }
        case K::Reset: nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, stream_id_, reply_.h2_error); break;
        case K::Goaway: {
            const std::string debug = "shutting down";
            nghttp2_submit_goaway(session, NGHTTP2_FLAG_NONE, 0, reply_.h2_error,
                                  reinterpret_cast<const std::uint8_t*>(debug.data()), debug.size());
            break;
        }
        case K::Silent: break;
        case K::HangUp: hang_up_ = true; break;
        }
    }

    void serve() {
        pollfd p{listen_fd_, POLLIN, 0};
        if (::poll(&p, 1, 10000) != 1) return;
        const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) return;
        nghttp2_session_callbacks* callbacks = nullptr;
        nghttp2_session_callbacks_new(&callbacks);
        nghttp2_session_callbacks_set_on_header_callback(callbacks, on_header);
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, on_data);
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, on_frame);
        nghttp2_session* session = nullptr;
        nghttp2_session_server_new(&session, callbacks, this);
        nghttp2_session_callbacks_del(callbacks);
        nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, nullptr, 0);
        nghttp2_submit_ping(session, NGHTTP2_FLAG_NONE, nullptr);
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        bool open = true;
        while (open && !hang_up_ && std::chrono::steady_clock::now() < deadline) {
            const std::uint8_t* out = nullptr;
            ssize_t n;
            while ((n = nghttp2_session_mem_send(session, &out)) > 0)
                if (::send(fd, out, static_cast<std::size_t>(n), MSG_NOSIGNAL) != n) open = false;
            if (!open || hang_up_) break;
            pollfd q{fd, POLLIN, 0};
            if (::poll(&q, 1, 200) <= 0) continue;
            std::uint8_t buffer[16384];
            const ssize_t got = ::recv(fd, buffer, sizeof(buffer), 0);
            if (got <= 0) break; // the client is done
            if (nghttp2_session_mem_recv(session, buffer, static_cast<std::size_t>(got)) < 0) break;
        }
        nghttp2_session_del(session);
        ::close(fd);
    }

    FakeReply reply_;
    fs::path dir_;
    std::string socket_path_;
    int listen_fd_ = -1;
    std::thread thread_;
    SeenRequest seen_;
    std::int32_t stream_id_ = 0;
    bool answered_ = false;
    bool hang_up_ = false;
    std::string body_;
    std::size_t body_sent_ = 0;
    std::deque<std::pair<std::string, std::string>> held_;
};

GrpcUnaryRequest request_to(const std::string& socket_path, std::chrono::milliseconds timeout = 3000ms) {
    GrpcUnaryRequest request;
    request.socket_path = socket_path;
    request.method = "/containerd.services.tasks.v1.Tasks/Get";
    request.metadata = {{"containerd-namespace", "k8s.io"}};
    request.message = "request-bytes";
    request.timeout = timeout;
    return request;
}

std::string transport_error_of(const GrpcUnaryRequest& request) {
    try {
        grpc_unix_call(request);
    } catch (const GrpcTransportError& e) {
        CHECK(e.code() == ErrorCode::ContainerRuntimeError);
        CHECK_THAT(e.what(), Catch::StartsWith("gRPC " + request.method + " on unix://" + request.socket_path + ": "));
        CHECK_THAT(e.what(), Catch::EndsWith(e.why()));
        return e.what();
    }
    FAIL("no GrpcTransportError thrown");
    return {};
}

} // namespace

TEST_CASE("grpc_unix_call: a normal unary call, request headers and body as gRPC wants them") {
    FakeReply reply;
    reply.message = std::string("answer\0bytes", 12);
    FakeGrpcServer server(reply);
    const GrpcUnaryResponse response = grpc_unix_call(request_to(server.socket_path()));
    CHECK(response.status == GrpcStatus::Ok);
    CHECK(response.status_code == 0);
    CHECK(response.message == reply.message);

    const SeenRequest& seen = server.seen();
    CHECK(seen.ping_acked);
    CHECK(seen.headers.at(":method") == "POST");
    CHECK(seen.headers.at(":scheme") == "http");
    CHECK(seen.headers.at(":path") == "/containerd.services.tasks.v1.Tasks/Get");
    CHECK(seen.headers.at(":authority") == "localhost");
    CHECK(seen.headers.at("content-type") == "application/grpc");
    CHECK(seen.headers.at("te") == "trailers");
    CHECK(seen.headers.at("grpc-timeout") == "3000m");
    CHECK(seen.headers.at("containerd-namespace") == "k8s.io");
    CHECK(seen.body == grpc_frame("request-bytes"));
}

TEST_CASE("grpc_unix_call: an empty response message is still one message") {
    FakeReply reply;
    reply.message = "";
    FakeGrpcServer server(reply);
    const GrpcUnaryResponse response = grpc_unix_call(request_to(server.socket_path()));
    CHECK(response.status == GrpcStatus::Ok);
    CHECK(response.message.empty());
}

TEST_CASE("grpc_unix_call: a response larger than the HTTP/2 flow-control window") {
    // 300 KB > the 64 KiB initial windows: only arrives if the client sends WINDOW_UPDATEs.
    FakeReply reply;
    reply.message = std::string(300'000, 'w');
    FakeGrpcServer server(reply);
    CHECK(grpc_unix_call(request_to(server.socket_path())).message == reply.message);
}

TEST_CASE("grpc_unix_call: an error status in the trailers after headers") {
    FakeReply reply;
    reply.grpc_status = "5";
    reply.grpc_message = "container %22abc%22 in namespace %22k8s.io%22: not found";
    FakeGrpcServer server(reply);
    const GrpcUnaryResponse response = grpc_unix_call(request_to(server.socket_path()));
    CHECK(response.status == GrpcStatus::NotFound);
    CHECK(response.status_message == "container \"abc\" in namespace \"k8s.io\": not found");
    CHECK(response.message.empty());
}

TEST_CASE("grpc_unix_call: a trailers-only error response") {
    FakeReply reply;
    reply.kind = FakeReply::Kind::TrailersOnly;
    reply.grpc_status = "5";
    reply.grpc_message = "task abc not found%0A%E2%9C%93";
    FakeGrpcServer server(reply);
    const GrpcUnaryResponse response = grpc_unix_call(request_to(server.socket_path()));
    CHECK(response.status == GrpcStatus::NotFound);
    CHECK(response.status_code == 5);
    CHECK(response.status_message == "task abc not found\n\xE2\x9C\x93");
}

TEST_CASE("grpc_unix_call: an unknown status code is kept as a number") {
    FakeReply reply;
    reply.kind = FakeReply::Kind::TrailersOnly;
    reply.grpc_status = "42";
    FakeGrpcServer server(reply);
    const GrpcUnaryResponse response = grpc_unix_call(request_to(server.socket_path()));
    CHECK(response.status == GrpcStatus::Unknown);
    CHECK(response.status_code == 42);
}

TEST_CASE("grpc_unix_call: transport failures are named errors") {
    SECTION("RST_STREAM") {
        FakeReply reply;
        reply.kind = FakeReply::Kind::Reset;
        reply.h2_error = NGHTTP2_REFUSED_STREAM;
        FakeGrpcServer server(reply);
        CHECK_THAT(transport_error_of(request_to(server.socket_path())),
                   Catch::Contains("the server reset the stream (RST_STREAM REFUSED_STREAM (7))"));
    }
    SECTION("GOAWAY before the stream was processed") {
        FakeReply reply;
        reply.kind = FakeReply::Kind::Goaway;
        reply.h2_error = NGHTTP2_ENHANCE_YOUR_CALM;
        FakeGrpcServer server(reply);
        const std::string error = transport_error_of(request_to(server.socket_path()));
        CHECK_THAT(error, Catch::Contains("refused the call"));
        CHECK_THAT(error, Catch::Contains("GOAWAY ENHANCE_YOUR_CALM (11) last stream 0 \"shutting down\""));
    }
    SECTION("no answer: the deadline") {
        FakeReply reply;
        reply.kind = FakeReply::Kind::Silent;
        FakeGrpcServer server(reply);
        const auto start = std::chrono::steady_clock::now();
        CHECK_THAT(transport_error_of(request_to(server.socket_path(), 300ms)),
                   Catch::Contains("timed out after 300 ms waiting for the response"));
        const auto took = std::chrono::steady_clock::now() - start;
        CHECK(took >= 290ms);
        CHECK(took < 3s);
    }
    SECTION("a socket where nothing speaks HTTP/2") {
        // Listening, never accepting: connect succeeds (backlog), then silence.
        const fs::path dir = fs::temp_directory_path() / ("grpc-unix-mute-" + std::to_string(::getpid()));
        fs::create_directories(dir);
        const std::string path = (dir / "mute.sock").string();
        const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
        REQUIRE(::listen(fd, 4) == 0);
        CHECK_THAT(transport_error_of(request_to(path, 200ms)),
                   Catch::Contains("timed out after 200 ms waiting for the response: the server sent nothing, "
                                   "not even HTTP/2 SETTINGS"));
        ::close(fd);
        fs::remove_all(dir);
    }
    SECTION("the server hangs up") {
        FakeReply reply;
        reply.kind = FakeReply::Kind::HangUp;
        FakeGrpcServer server(reply);
        const std::string error = transport_error_of(request_to(server.socket_path()));
        CHECK((error.find("closed the connection before the response ended") != std::string::npos ||
               error.find("read: Connection reset by peer") != std::string::npos));
    }
    SECTION("an HTTP answer that is not gRPC") {
        FakeReply reply;
        reply.kind = FakeReply::Kind::Http503;
        FakeGrpcServer server(reply);
        CHECK_THAT(transport_error_of(request_to(server.socket_path())),
                   Catch::Contains("HTTP status 503, content-type text/plain: not a gRPC response"));
    }
    SECTION("no grpc-status") {
        FakeReply reply;
        reply.kind = FakeReply::Kind::NoTrailers;
        reply.message = "m";
        FakeGrpcServer server(reply);
        CHECK_THAT(transport_error_of(request_to(server.socket_path())),
                   Catch::Contains("the response ended without a grpc-status"));
    }
    SECTION("status OK with two messages") {
        FakeReply reply;
        reply.raw_body = grpc_frame("a") + grpc_frame("b");
        FakeGrpcServer server(reply);
        CHECK_THAT(transport_error_of(request_to(server.socket_path())),
                   Catch::Contains("status OK with 2 response messages, expected one"));
    }
    SECTION("status OK without a message") {
        FakeReply reply;
        reply.raw_body = "";
        FakeGrpcServer server(reply);
        CHECK_THAT(transport_error_of(request_to(server.socket_path())),
                   Catch::Contains("status OK with 0 response messages, expected one"));
    }
    SECTION("a truncated message") {
        FakeReply reply;
        reply.raw_body = grpc_frame("hello").substr(0, 6);
        FakeGrpcServer server(reply);
        CHECK_THAT(transport_error_of(request_to(server.socket_path())),
                   Catch::Contains("response body: truncated gRPC message (1 of 5 bytes)"));
    }
    SECTION("a response over the limit") {
        FakeReply reply;
        reply.message = std::string(5000, 'x');
        FakeGrpcServer server(reply);
        GrpcUnaryRequest request = request_to(server.socket_path());
        request.max_response_bytes = 1000;
        CHECK_THAT(transport_error_of(request), Catch::Contains("response body larger than 1005 bytes"));
    }
    SECTION("nobody listening") {
        const fs::path dir = fs::temp_directory_path() / ("grpc-unix-refused-" + std::to_string(::getpid()));
        fs::create_directories(dir);
        const std::string path = (dir / "dead.sock").string();
        {
            const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
            sockaddr_un addr{};
            addr.sun_family = AF_UNIX;
            std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
            REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
            ::close(fd); // the socket file stays, nothing listens: ECONNREFUSED
        }
        CHECK_THAT(transport_error_of(request_to(path)), Catch::Contains("connect " + path + ": Connection refused"));
        fs::remove_all(dir);
    }
    SECTION("no socket file") {
        CHECK_THAT(transport_error_of(request_to("/nonexistent/grpc.sock")),
                   Catch::Contains("connect /nonexistent/grpc.sock: No such file or directory"));
    }
    SECTION("a path too long for sun_path") {
        CHECK_THAT(transport_error_of(request_to("/" + std::string(200, 's'))),
                   Catch::Contains("longer than 107 bytes"));
    }
}

// ---- the containerd backend on the fake server ----

namespace {

namespace tasks = containerd::services::tasks::v1;
namespace types = containerd::v1::types;

std::string get_response(std::uint32_t pid, types::Status status) {
    tasks::GetResponse response;
    response.mutable_process()->set_container_id("abc");
    response.mutable_process()->set_id("abc");
    response.mutable_process()->set_pid(pid);
    response.mutable_process()->set_status(status);
    return response.SerializeAsString();
}

RuntimeError containerd_error_of(const std::string& socket_path, const std::string& id) {
    try {
        make_containerd_backend("unix://" + socket_path, "k8s.io")->container_pid(id);
    } catch (const RuntimeError& e) {
        CHECK_THAT(e.what(), Catch::StartsWith("containerd: unix://" + socket_path + ": "));
        return e;
    }
    FAIL("no RuntimeError thrown");
    throw; // unreachable
}

} // namespace

TEST_CASE("containerd backend: Tasks/Get → the running task's pid") {
    FakeReply reply;
    reply.message = get_response(4242, types::RUNNING);
    FakeGrpcServer server(reply);
    CHECK(make_containerd_backend("unix://" + server.socket_path(), "k8s.io")->container_pid("abc") == 4242);

    const SeenRequest& seen = server.seen();
    CHECK(seen.headers.at(":path") == "/containerd.services.tasks.v1.Tasks/Get");
    CHECK(seen.headers.at("containerd-namespace") == "k8s.io");
    CHECK(seen.headers.at("grpc-timeout") == "5000m");
    const auto messages = grpc_unframe(seen.body, 1000);
    REQUIRE(messages.size() == 1);
    tasks::GetRequest request;
    REQUIRE(request.ParseFromString(messages[0]));
    CHECK(request.container_id() == "abc");
    CHECK(request.exec_id().empty());
}

TEST_CASE("containerd backend: gRPC answers mapped to the failure kinds") {
    SECTION("unknown container → NotFound") {
        FakeReply reply;
        reply.kind = FakeReply::Kind::TrailersOnly;
        reply.grpc_status = "5";
        reply.grpc_message = "container %22abc%22 in namespace %22k8s.io%22: not found";
        FakeGrpcServer server(reply);
        const RuntimeError e = containerd_error_of(server.socket_path(), "abc");
        CHECK(e.failure() == RuntimeFailure::NotFound);
        CHECK_THAT(e.what(), Catch::Contains("container abc not found in containerd namespace k8s.io"));
        CHECK_THAT(e.what(), Catch::Contains("(container \"abc\" in namespace \"k8s.io\": not found)"));
    }
    SECTION("no task → NotRunning") {
        FakeReply reply;
        reply.kind = FakeReply::Kind::TrailersOnly;
        reply.grpc_status = "5";
        reply.grpc_message = "task abc not found";
        FakeGrpcServer server(reply);
        const RuntimeError e = containerd_error_of(server.socket_path(), "abc");
        CHECK(e.failure() == RuntimeFailure::NotRunning);
        CHECK_THAT(e.what(), Catch::Contains("is not running (no task: task abc not found)"));
    }
    SECTION("stopped task → NotRunning") {
        FakeReply reply;
        reply.message = get_response(4242, types::STOPPED);
        FakeGrpcServer server(reply);
        const RuntimeError e = containerd_error_of(server.socket_path(), "abc");
        CHECK(e.failure() == RuntimeFailure::NotRunning);
        CHECK_THAT(e.what(), Catch::Contains("task status STOPPED, pid 4242"));
    }
    SECTION("pid 0 → NotRunning") {
        FakeReply reply;
        reply.message = get_response(0, types::RUNNING);
        FakeGrpcServer server(reply);
        const RuntimeError e = containerd_error_of(server.socket_path(), "abc");
        CHECK(e.failure() == RuntimeFailure::NotRunning);
        CHECK_THAT(e.what(), Catch::Contains("pid 0"));
    }
    SECTION("an empty GetResponse (no process) → NotRunning") {
        FakeReply reply;
        reply.message = "";
        FakeGrpcServer server(reply);
        CHECK(containerd_error_of(server.socket_path(), "abc").failure() == RuntimeFailure::NotRunning);
    }
    SECTION("another gRPC status → Unavailable") {
        FakeReply reply;
        reply.kind = FakeReply::Kind::TrailersOnly;
        reply.grpc_status = "12";
        reply.grpc_message = "unknown service containerd.services.tasks.v1.Tasks";
        FakeGrpcServer server(reply);
        const RuntimeError e = containerd_error_of(server.socket_path(), "abc");
        CHECK(e.failure() == RuntimeFailure::Unavailable);
        CHECK_THAT(e.what(), Catch::Contains("Tasks/Get abc: gRPC status 12 UNIMPLEMENTED: unknown service"));
    }
    SECTION("an answer that is no GetResponse → Unavailable") {
        FakeReply reply;
        reply.message = "\xff\xff\xff";
        FakeGrpcServer server(reply);
        const RuntimeError e = containerd_error_of(server.socket_path(), "abc");
        CHECK(e.failure() == RuntimeFailure::Unavailable);
        CHECK_THAT(e.what(), Catch::Contains("is not a containerd GetResponse"));
    }
    SECTION("RST_STREAM → Unavailable, naming the call and the reason once") {
        FakeReply reply;
        reply.kind = FakeReply::Kind::Reset;
        FakeGrpcServer server(reply);
        const RuntimeError e = containerd_error_of(server.socket_path(), "abc");
        CHECK(e.failure() == RuntimeFailure::Unavailable);
        CHECK_THAT(e.what(), Catch::Contains("Tasks/Get abc: the server reset the stream (RST_STREAM INTERNAL_ERROR"));
        CHECK_THAT(e.what(), !Catch::Contains("gRPC /containerd"));
    }
}
