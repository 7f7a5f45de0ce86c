// grpc_unix.hpp — one unary gRPC call over HTTP/2 on a unix socket (containerd's API), with
// libnghttp2 doing the HTTP/2 part (framing, flow control, SETTINGS/PING acks, HPACK).
//
// Why not grpc++: linking it (with abseil, re2, c-ares and full protobuf) costs ~7-10 ms of CPU in
// static initialisers at every start of the helper and ~7 MiB of RSS, for the one call the helper
// makes. What a unary call needs is small: a POST with the gRPC headers, one length-prefixed
// message, and the grpc-status / grpc-message trailers (gRPC's PROTOCOL-HTTP2.md). One connection
// per call; no TLS, no compression, no retries, no streaming.
//
// Errors: a call that got a gRPC status (any, OK or not) returns it; everything else (socket
// missing, connect refused, deadline passed, protocol error, RST_STREAM, GOAWAY, a response that is
// not gRPC) throws GrpcTransportError, whose message names the call, the socket and why.
#pragma once

#include "error.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stress {

// gRPC status codes (grpc/include/grpc/impl/codegen/status.h); the numbers are the wire values.
enum class GrpcStatus : int {
    Ok = 0,
    Cancelled = 1,
    Unknown = 2,
    InvalidArgument = 3,
    DeadlineExceeded = 4,
    NotFound = 5,
    AlreadyExists = 6,
    PermissionDenied = 7,
    ResourceExhausted = 8,
    FailedPrecondition = 9,
    Aborted = 10,
    OutOfRange = 11,
    Unimplemented = 12,
    Internal = 13,
    Unavailable = 14,
    DataLoss = 15,
    Unauthenticated = 16,
};

struct GrpcUnaryRequest {
    std::string socket_path;   // a path, without "unix://"
    std::string method;        // the :path, e.g. "/containerd.services.tasks.v1.Tasks/Get"
    std::string authority = "localhost";   // what grpc-go clients send for a unix socket
    // Custom metadata, e.g. {"containerd-namespace", "k8s.io"}: lower-case names, printable ASCII values.
    std::vector<std::pair<std::string, std::string>> metadata;
    std::string message;       // the serialized request message (framed by the call)
    // One deadline for connect, request and response; also sent as grpc-timeout.
    std::chrono::milliseconds timeout{5000};
    // A larger response is an error (gRPC's default limit is 4 MiB).
    std::size_t max_response_bytes = 4 * 1024 * 1024;
};

struct GrpcUnaryResponse {
    GrpcStatus status = GrpcStatus::Unknown;
    int status_code = 2;       // the grpc-status value as received (may lie outside GrpcStatus)
    std::string status_message;   // grpc-message, percent-decoded
    std::string message;       // the response message bytes (unframed); empty when status is not Ok
};

class GrpcTransportError : public Error {
public:
    // Message: "gRPC <method> on unix://<socket>: <why>".
    GrpcTransportError(const std::string& socket_path, const std::string& method, const std::string& why)
        : Error(ErrorCode::ContainerRuntimeError, "gRPC " + method + " on unix://" + socket_path + ": " + why),
          why_(why) {}
    // Just the reason, e.g. "connect /run/x.sock: Connection refused", for callers that name the
    // call and the socket themselves.
    const std::string& why() const noexcept { return why_; }

private:
    std::string why_;
};

// The call. Returns the status the server sent (including non-Ok ones); throws GrpcTransportError
// when there is none. With status Ok, message holds exactly one response message.
GrpcUnaryResponse grpc_unix_call(const GrpcUnaryRequest& request);

// ---- pure parts, exposed for the unit tests ----

// "OK", "NOT_FOUND", …; "CODE_<n>" for a value outside the table.
std::string grpc_status_name(int code);
// The 5-byte length-prefixed message: flag 0 (not compressed), big-endian length, bytes.
std::string grpc_frame(std::string_view message);
// The messages of a response body. Throws Error(ContainerRuntimeError) with the reason for a truncated
// frame, a compressed one (we never offer an encoding), or a message over max_bytes.
std::vector<std::string> grpc_unframe(std::string_view body, std::size_t max_bytes);
// grpc-message is percent-encoded (%XX for bytes outside 0x20-0x7E and for '%'). Invalid escapes
// are kept as they are: the spec says never to lose the message over a bad escape.
std::string grpc_percent_decode(std::string_view text);
// grpc-timeout value: at most 8 digits and a unit; "5000m" for 5 s, whole seconds ("S") or
// minutes ("M") when the milliseconds need more digits. 0 or less → "0m".
std::string grpc_timeout_value(std::chrono::milliseconds timeout);
// The grpc-status text as an int, std::nullopt for anything but 1-3 ASCII digits.
std::optional<int> parse_grpc_status(std::string_view text);

} // namespace stress
