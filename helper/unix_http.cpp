#include "unix_http.hpp"

#include "asio_step.hpp"
#include "error.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <optional>

namespace stress {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using local = asio::local::stream_protocol;

// A docker inspect is a few KiB; this only bounds a misbehaving server.
constexpr std::uint64_t body_limit = 64 * 1024 * 1024;

[[noreturn]] void fail(const std::string& what, const std::string& why) {
    throw Error(ErrorCode::ContainerRuntimeError, what + ": " + why);
}

} // namespace

UnixHttpResponse unix_http_get(const std::string& socket_path, const std::string& target,
                               const UnixHttpTimeouts& timeouts) {
    asio::io_context io;
    local::socket socket(io);

    auto connected = run_step(io, socket, Deadline(timeouts.connect),
                              [&](auto done) { socket.async_connect(local::endpoint(socket_path), done); });
    if (!connected) fail("connect " + socket_path, "timed out after " + std::to_string(timeouts.connect.count()) + " ms");
    if (*connected) fail("connect " + socket_path, connected->message());

    // One deadline for request and response.
    const Deadline deadline(timeouts.response);
    const std::string what = "GET " + target + " on " + socket_path;
    const std::string timed_out = "timed out after " + std::to_string(timeouts.response.count()) + " ms";

    http::request<http::empty_body> request{http::verb::get, target, 11};
    // HTTP/1.1 requires a Host; the daemons ignore its value.
    request.set(http::field::host, "localhost");
    request.set(http::field::user_agent, "litmus-stress-helper");
    request.set(http::field::connection, "close");

    auto written = run_step(io, socket, deadline, [&](auto done) { http::async_write(socket, request, done); });
    if (!written) fail(what, timed_out);
    if (*written) fail(what, "write: " + written->message());

    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(body_limit);
    auto read = run_step(io, socket, deadline, [&](auto done) { http::async_read(socket, buffer, parser, done); });
    if (!read) fail(what, timed_out);
    if (*read) fail(what, "read response: " + read->message());

    beast::error_code ignored;
    socket.shutdown(local::socket::shutdown_both, ignored);
    auto response = parser.release();
    return UnixHttpResponse{response.result_int(), std::move(response.body())};
}

} // namespace stress
