// asio_step.hpp — one blocking I/O step with a deadline, for the synchronous HTTP clients
// (kube.cpp over TCP+TLS, unix_http.cpp over a unix socket). The one place their timeouts live.
//
// Beast's synchronous calls have no timeout, so each step is started asynchronously and the loop
// is run until that one operation completes or the deadline passes; then the socket is closed,
// which completes the operation with operation_aborted, and the step reports a timeout. One
// io_context.run_for per step keeps the callers' code sequential. Several steps may share one
// Deadline: a server that trickles bytes cannot extend it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>

#include <algorithm>
#include <chrono>
#include <optional>

namespace stress {

class Deadline {
public:
    explicit Deadline(std::chrono::milliseconds budget) : at_(std::chrono::steady_clock::now() + budget) {}
    std::chrono::milliseconds left() const {
        return std::max(std::chrono::milliseconds(0), std::chrono::duration_cast<std::chrono::milliseconds>(
                                                          at_ - std::chrono::steady_clock::now()));
    }

private:
    std::chrono::steady_clock::time_point at_;
};

// Starts one operation with `start(handler)` (e.g. [&](auto done) { socket.async_connect(ep, done); })
// and waits for it. Returns its error_code (success included), or nullopt when the deadline passed.
template <class Socket, class Start>
std::optional<boost::system::error_code> run_step(boost::asio::io_context& io, Socket& socket, const Deadline& deadline,
                                                  Start&& start) {
    std::optional<boost::system::error_code> done;
    start([&done](boost::system::error_code ec, auto&&...) { done = ec; });
    io.restart();
    io.run_for(deadline.left());
    if (done) return done;
    boost::system::error_code ignored;
    socket.close(ignored);
    io.restart();
    io.run();
    return std::nullopt;
}

} // namespace stress
