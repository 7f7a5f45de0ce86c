// asio_step.hpp — one blocking I/O step with a deadline, for the synchronous HTTP clients
// (kube.cpp over TCP+TLS, unix_http.cpp over a unix socket).
//
// Beast's synchronous calls have no timeout, so each step is started asynchronously and the loop
// is run until the one pending operation completes (`done` is set by its handler) or `timeout`
// passes; on timeout the socket is closed, which completes the operation with operation_aborted,
// and false is returned. One io_context.run_for per step keeps the code sequential.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <optional>

namespace stress {

template <class Socket>
bool run_step(boost::asio::io_context& io, Socket& socket, const std::optional<boost::system::error_code>& done,
              std::chrono::milliseconds timeout) {
    io.restart();
    io.run_for(timeout);
    if (done) return true;
    boost::system::error_code ignored;
    socket.close(ignored);
    io.restart();
    io.run();
    return false;
}

} // namespace stress
