// grpc_unix.cpp — a unary gRPC call over HTTP/2 on a unix socket: nghttp2 in memory mode
// (nghttp2_session_mem_send / mem_recv), the socket and the deadline are ours (non-blocking fd + poll).
#include "grpc_unix.hpp"

#include "fd.hpp"

#include <nghttp2/nghttp2.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace stress {

std::string grpc_status_name(int code) {
    static constexpr std::array<const char*, 17> names = {
        "OK",       "CANCELLED",          "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
        "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
        "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};
    if (code >= 0 && code < static_cast<int>(names.size())) return names[static_cast<std::size_t>(code)];
    return "CODE_" + std::to_string(code);
}

std::string grpc_frame(std::string_view message) {
    const auto n = static_cast<std::uint32_t>(message.size());
    std::string framed;
    framed.reserve(5 + message.size());
    framed.push_back('\0');
    for (int shift = 24; shift >= 0; shift -= 8) framed.push_back(static_cast<char>((n >> shift) & 0xff));
    framed.append(message);
    return framed;
}

std::vector<std::string> grpc_unframe(std::string_view body, std::size_t max_bytes) {
    std::vector<std::string> messages;
    while (!body.empty()) {
        if (body.size() < 5)
            throw Error(ErrorCode::ContainerRuntimeError, "truncated gRPC message prefix (" + std::to_string(body.size()) + " of 5 bytes)");
        const auto flag = static_cast<unsigned char>(body[0]);
        std::uint32_t length = 0;
        for (std::size_t i = 1; i < 5; ++i) length = (length << 8) | static_cast<unsigned char>(body[i]);
        if (flag == 1) throw Error(ErrorCode::ContainerRuntimeError, "compressed gRPC message, but no compression was offered");
        if (flag != 0) throw Error(ErrorCode::ContainerRuntimeError, "bad gRPC message flag " + std::to_string(flag));
        if (length > max_bytes)
            throw Error(ErrorCode::ContainerRuntimeError, "gRPC message of " + std::to_string(length) + " bytes, more than the limit of " +
                                     std::to_string(max_bytes));
        if (body.size() - 5 < length)
            throw Error(ErrorCode::ContainerRuntimeError, "truncated gRPC message (" + std::to_string(body.size() - 5) + " of " +
                                     std::to_string(length) + " bytes)");
        messages.emplace_back(body.substr(5, length));
        body.remove_prefix(5 + length);
    }
    return messages;
}

std::string grpc_percent_decode(std::string_view text) {
    const auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size()) {
            const int hi = hex(text[i + 1]), lo = hex(text[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out.push_back(static_cast<char>(hi * 16 + lo));
                i += 2;
                continue;
            }
        }
        out.push_back(text[i]);
    }
    return out;
}

std::string grpc_timeout_value(std::chrono::milliseconds timeout) {
    constexpr long long max_value = 99'999'999; // "at most 8 digits"
    long long value = timeout.count();
    if (value <= 0) return "0m";
    if (value <= max_value) return std::to_string(value) + "m";
    // Round up: a deadline sent shorter than ours would make the server give up first.
    for (const auto& [divisor, unit] : {std::pair{1000LL, 'S'}, std::pair{60LL, 'M'}, std::pair{60LL, 'H'}}) {
        value = (value + divisor - 1) / divisor;
        if (value <= max_value || unit == 'H') return std::to_string(std::min(value, max_value)) + unit;
    }
    return "0m"; // unreachable
}

std::optional<int> parse_grpc_status(std::string_view text) {
    if (text.empty() || text.size() > 3) return std::nullopt;
    int value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + (c - '0');
    }
    return value;
}

namespace {

using Clock = std::chrono::steady_clock;

// What the nghttp2 callbacks learn about the one stream and the connection.
struct CallState {
    std::size_t max_body = 0;
    std::string framed_request;
    std::size_t request_sent = 0;
    std::int32_t stream_id = -1;

    std::string http_status;
    std::string content_type;
    std::string grpc_status;
    std::string grpc_message;
    bool have_grpc_status = false;
    std::string body;
    bool body_too_large = false;

    bool closed = false;
    std::uint32_t close_error = NGHTTP2_NO_ERROR;
    bool reset_by_peer = false;
    std::uint32_t reset_error = NGHTTP2_NO_ERROR;
    bool goaway = false;
    std::uint32_t goaway_error = NGHTTP2_NO_ERROR;
    std::int32_t goaway_last_stream = 0;
    std::string goaway_debug;
};

int on_header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name, std::size_t namelen,
              const std::uint8_t* value, std::size_t valuelen, std::uint8_t, void* user_data) {
    auto& call = *static_cast<CallState*>(user_data);
    if (frame->hd.stream_id != call.stream_id) return 0;
    const std::string_view n(reinterpret_cast<const char*>(name), namelen);
    const std::string_view v(reinterpret_cast<const char*>(value), valuelen);
    // Response headers and trailers are read alike: a trailers-only response (an error answered
    // before any message) carries grpc-status in its one header block.
    if (n == ":status") call.http_status = v;
    else if (n == "content-type") call.content_type = v;
    else if (n == "grpc-status") {
        call.grpc_status = v;
        call.have_grpc_status = true;
    } else if (n == "grpc-message") call.grpc_message = v;
    return 0;
}

int on_data_chunk(nghttp2_session*, std::uint8_t, std::int32_t stream_id, const std::uint8_t* data, std::size_t len,
                  void* user_data) {
    auto& call = *static_cast<CallState*>(user_data);
    if (stream_id != call.stream_id) return 0;
    if (call.body.size() + len > call.max_body) {
        call.body_too_large = true;
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    call.body.append(reinterpret_cast<const char*>(data), len);
    return 0;
}

int on_frame(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    auto& call = *static_cast<CallState*>(user_data);
    if (frame->hd.type == NGHTTP2_GOAWAY) {
        call.goaway = true;
        call.goaway_error = frame->goaway.error_code;
        call.goaway_last_stream = frame->goaway.last_stream_id;
        call.goaway_debug.assign(reinterpret_cast<const char*>(frame->goaway.opaque_data),
                                 std::min<std::size_t>(frame->goaway.opaque_data_len, 200));
    } else if (frame->hd.type == NGHTTP2_RST_STREAM && frame->hd.stream_id == call.stream_id) {
        call.reset_by_peer = true;
        call.reset_error = frame->rst_stream.error_code;
    }
    return 0;
}

int on_stream_close(nghttp2_session*, std::int32_t stream_id, std::uint32_t error_code, void* user_data) {
    auto& call = *static_cast<CallState*>(user_data);
    if (stream_id != call.stream_id) return 0;
    call.closed = true;
    call.close_error = error_code;
    return 0;
}

ssize_t read_request_body(nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t length,
                          std::uint32_t* data_flags, nghttp2_data_source* source, void*) {
    auto& call = *static_cast<CallState*>(source->ptr);
    const std::size_t n = std::min(length, call.framed_request.size() - call.request_sent);
    std::memcpy(buf, call.framed_request.data() + call.request_sent, n);
    call.request_sent += n;
    if (call.request_sent == call.framed_request.size()) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
}

struct SessionDeleter {
    void operator()(nghttp2_session* s) const { nghttp2_session_del(s); }
};
using Session = std::unique_ptr<nghttp2_session, SessionDeleter>;

nghttp2_nv header(const std::string& name, const std::string& value) {
    return nghttp2_nv{reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
                      reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
                      NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE};
}

std::string http2_error_name(std::uint32_t code) {
    return std::string(nghttp2_http2_strerror(code)) + " (" + std::to_string(code) + ")";
}

// One call on one connection: connect, let nghttp2 frame the request, then alternate flush (send
// what nghttp2 queued) and receive (feed nghttp2 what arrived) until our stream closes. Every wait
// is a poll() bounded by the one deadline; every failure throws GrpcTransportError.
class Connection {
public:
    explicit Connection(const GrpcUnaryRequest& request)
        : request_(request), deadline_(Clock::now() + request.timeout),
          timed_out_("timed out after " + std::to_string(request.timeout.count()) + " ms") {}

    [[noreturn]] void fail(const std::string& why) const {
        throw GrpcTransportError(request_.socket_path, request_.method, why);
    }

    int remaining_ms() const {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline_ - Clock::now()).count();
        return static_cast<int>(std::clamp<long long>(left, 0, 1'000'000'000));
    }

    // Waits for `events` on the socket until the deadline; fails with `waiting_for` on timeout.
    void wait(short events, const std::string& waiting_for) const {
        for (;;) {
            const int left = remaining_ms();
            if (left == 0) fail(timed_out_ + " " + waiting_for);
            pollfd p{fd_.get(), events, 0};
            const int n = retry_on_eintr([&] { return ::poll(&p, 1, left); });
            if (n < 0) fail("poll: " + errno_text(errno));
            if (n > 0) return; // readable, writable, or an error/hang-up that the next read/write reports
        }
    }

    void connect() {
        const std::string& path = request_.socket_path;
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        if (path.empty() || path.size() >= sizeof(addr.sun_path))
            fail("socket path \"" + path + "\": empty or longer than " + std::to_string(sizeof(addr.sun_path) - 1) +
                 " bytes");
        std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
        fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
        if (!fd_) fail("socket(AF_UNIX): " + errno_text(errno));
        for (;;) {
            if (::connect(fd_.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0) return;
            const int err = errno;
            if (err == EINTR) continue;
            if (err == EAGAIN) {
                // A non-blocking unix connect says EAGAIN when the listen backlog is full; there is
                // no completion to poll for, only a retry.
                if (remaining_ms() == 0) fail("connect " + path + ": " + timed_out_ + " (listen backlog full)");
                ::poll(nullptr, 0, std::min(remaining_ms(), 2));
                continue;
            }
            if (err == EINPROGRESS) {
                wait(POLLOUT, "connecting to " + path);
                int so_error = 0;
                socklen_t len = sizeof(so_error);
                if (::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &so_error, &len) != 0) so_error = errno;
                if (so_error != 0) fail("connect " + path + ": " + errno_text(so_error));
                return;
            }
            fail("connect " + path + ": " + errno_text(err));
        }
    }

    // Writes all of `data`, waiting for room until the deadline.
    void write_all(const std::uint8_t* data, std::size_t size) {
        while (size > 0) {
            const ssize_t n = retry_on_eintr([&] { return ::send(fd_.get(), data, size, MSG_NOSIGNAL); });
            if (n < 0) {
                if (errno == EAGAIN) {
                    wait(POLLOUT, "writing the request");
                    continue;
                }
                fail("write: " + errno_text(errno) + connection_context());
            }
            data += n;
            size -= static_cast<std::size_t>(n);
        }
    }

    // Sends whatever nghttp2 has queued (preface, SETTINGS, acks, HEADERS, DATA, WINDOW_UPDATE).
    void flush(nghttp2_session* session) {
        for (;;) {
            const std::uint8_t* data = nullptr;
            const ssize_t n = nghttp2_session_mem_send(session, &data);
            if (n < 0) fail(std::string("HTTP/2: ") + nghttp2_strerror(static_cast<int>(n)));
            if (n == 0) return;
            write_all(data, static_cast<std::size_t>(n));
        }
    }

    // Reads what is there (waiting until the deadline) and feeds it to nghttp2.
    void receive(nghttp2_session* session) {
        std::array<std::uint8_t, 16384> buffer;
        for (;;) {
            const ssize_t n = retry_on_eintr([&] { return ::recv(fd_.get(), buffer.data(), buffer.size(), 0); });
            if (n < 0 && errno == EAGAIN) {
                // An HTTP/2 server speaks first (its SETTINGS): total silence means something else
                // listens there, e.g. containerd's ttrpc socket, which waits for its own framing.
                wait(POLLIN, bytes_received_ == 0
                                 ? "waiting for the response: the server sent nothing, not even HTTP/2 SETTINGS "
                                   "(not a gRPC socket?)"
                                 : "waiting for the response");
                continue;
            }
            if (n < 0) fail("read: " + errno_text(errno) + connection_context());
            if (n == 0) fail("the server closed the connection before the response ended" + connection_context());
            bytes_received_ += static_cast<std::size_t>(n);
            const ssize_t used = nghttp2_session_mem_recv(session, buffer.data(), static_cast<std::size_t>(n));
            if (call_.body_too_large)
                fail("response body larger than " + std::to_string(call_.max_body) + " bytes");
            if (used < 0)
                fail(std::string("HTTP/2 protocol error: ") + nghttp2_strerror(static_cast<int>(used)) +
                     connection_context());
            return;
        }
    }

    // ", after GOAWAY (…)" when the server sent one: usually the reason the connection went away.
    std::string connection_context() const {
        if (!call_.goaway) return "";
        std::string text = ", after the server's GOAWAY " + http2_error_name(call_.goaway_error) + " last stream " +
                           std::to_string(call_.goaway_last_stream);
        if (!call_.goaway_debug.empty()) text += " \"" + call_.goaway_debug + "\"";
        return text;
    }

    GrpcUnaryResponse run() {
        connect();

        nghttp2_session_callbacks* callbacks = nullptr;
        if (const int rv = nghttp2_session_callbacks_new(&callbacks); rv != 0)
            fail(std::string("nghttp2_session_callbacks_new: ") + nghttp2_strerror(rv));
        nghttp2_session_callbacks_set_on_header_callback(callbacks, on_header);
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, on_data_chunk);
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, on_frame);
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, on_stream_close);
        nghttp2_session* raw = nullptr;
        const int created = nghttp2_session_client_new(&raw, callbacks, &call_);
        nghttp2_session_callbacks_del(callbacks);
        if (created != 0) fail(std::string("nghttp2_session_client_new: ") + nghttp2_strerror(created));
        Session session(raw);

        // The response is small: the default 64 KiB windows suffice; no server push.
        const nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0}};
        if (const int rv = nghttp2_submit_settings(session.get(), NGHTTP2_FLAG_NONE, settings, 1); rv != 0)
            fail(std::string("HTTP/2 SETTINGS: ") + nghttp2_strerror(rv));

        // Kept alive until the HEADERS frame is sent (NO_COPY headers).
        const std::string timeout = grpc_timeout_value(request_.timeout);
        std::vector<std::pair<std::string, std::string>> fields = {
            {":method", "POST"},
            {":scheme", "http"},
            {":path", request_.method},
            {":authority", request_.authority},
            {"content-type", "application/grpc"},
            {"te", "trailers"},
            {"grpc-timeout", timeout},
            {"user-agent", "litmus-stress-helper"},
        };
        fields.insert(fields.end(), request_.metadata.begin(), request_.metadata.end());
        std::vector<nghttp2_nv> nva;
        nva.reserve(fields.size());
        for (const auto& [name, value] : fields) nva.push_back(header(name, value));

        call_.max_body = request_.max_response_bytes + 5;
        call_.framed_request = grpc_frame(request_.message);
        nghttp2_data_provider body{};
        body.source.ptr = &call_;
        body.read_callback = read_request_body;
        call_.stream_id = nghttp2_submit_request(session.get(), nullptr, nva.data(), nva.size(), &body, nullptr);
        if (call_.stream_id < 0)
            fail(std::string("HTTP/2 request: ") + nghttp2_strerror(call_.stream_id));

        while (!call_.closed) {
            flush(session.get());
            if (call_.closed) break;
            if (!nghttp2_session_want_read(session.get()) && !nghttp2_session_want_write(session.get()))
                fail("the HTTP/2 session ended before the response" + connection_context());
            receive(session.get());
        }
        // Tell the server we are done rather than just vanishing; best effort, never waits.
        if (nghttp2_session_terminate_session(session.get(), NGHTTP2_NO_ERROR) == 0) {
            const std::uint8_t* data = nullptr;
            const ssize_t n = nghttp2_session_mem_send(session.get(), &data);
            if (n > 0 && ::send(fd_.get(), data, static_cast<std::size_t>(n), MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
                // Nothing to do: the answer is complete, and the server sees the close anyway.
            }
        }
        return result();
    }

    GrpcUnaryResponse result() const {
        if (!call_.have_grpc_status) {
            if (call_.goaway && call_.stream_id > call_.goaway_last_stream)
                fail("the server refused the call" + connection_context());
            if (call_.reset_by_peer)
                fail("the server reset the stream (RST_STREAM " + http2_error_name(call_.reset_error) + ")" +
                     connection_context());
            if (call_.close_error != NGHTTP2_NO_ERROR)
                fail("the stream was closed with " + http2_error_name(call_.close_error) +
                     " (a malformed response?)" + connection_context());
        }
        if (call_.http_status != "200")
            fail("HTTP status " + (call_.http_status.empty() ? std::string("missing") : call_.http_status) +
                 (call_.content_type.empty() ? "" : ", content-type " + call_.content_type) +
                 ": not a gRPC response");
        if (call_.content_type.rfind("application/grpc", 0) != 0)
            fail("content-type \"" + call_.content_type + "\" is not application/grpc");
        if (!call_.have_grpc_status) fail("the response ended without a grpc-status");
        const auto code = parse_grpc_status(call_.grpc_status);
        if (!code) fail("grpc-status \"" + call_.grpc_status + "\" is not a number");

        GrpcUnaryResponse response;
        response.status_code = *code;
        response.status = *code <= static_cast<int>(GrpcStatus::Unauthenticated) ? static_cast<GrpcStatus>(*code)
                                                                                 : GrpcStatus::Unknown;
        response.status_message = grpc_percent_decode(call_.grpc_message);
        if (response.status != GrpcStatus::Ok) return response;

        std::vector<std::string> messages;
        try {
            messages = grpc_unframe(call_.body, request_.max_response_bytes);
        } catch (const Error& e) {
            fail(std::string("response body: ") + e.what());
        }
        if (messages.size() != 1)
            fail("status OK with " + std::to_string(messages.size()) + " response messages, expected one");
        response.message = std::move(messages.front());
        return response;
    }

private:
    const GrpcUnaryRequest& request_;
    const Clock::time_point deadline_;
    const std::string timed_out_;
    UniqueFd fd_;
    std::size_t bytes_received_ = 0;
    CallState call_;
};

} // namespace

GrpcUnaryResponse grpc_unix_call(const GrpcUnaryRequest& request) {
    Connection connection(request);
    return connection.run();
}

} // namespace stress
