// unix_http.hpp — a minimal HTTP/1.1 GET over a unix socket (docker's Engine API, CRI-O's info
// endpoint), with Boost.Beast. One request per connection; no TLS, no redirects, no keep-alive.
#pragma once

#include <chrono>
#include <string>

namespace stress {

struct UnixHttpResponse {
    unsigned status = 0;   // e.g. 200, 404
    std::string body;      // decoded (chunked transfer is undone)
};

struct UnixHttpTimeouts {
    std::chrono::milliseconds connect{2000};
    std::chrono::milliseconds response{5000};   // from the end of connect to the last byte of the body
};

// GET `target` (e.g. "/containers/ID/json") from the server listening on `socket_path`.
// Any HTTP status is returned; only transport failures throw: Error(ContainerRuntimeError,
// "connect /run/docker.sock: Connection refused"), "...: timed out after 5000 ms", a malformed response.
UnixHttpResponse unix_http_get(const std::string& socket_path, const std::string& target,
                               const UnixHttpTimeouts& timeouts = {});

} // namespace stress
