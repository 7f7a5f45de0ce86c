// HTTP/1.1 responses as the two clients read them (kube.cpp over TLS, unix_http.cpp for docker and
// CRI-O): Beast's response parser with our body limit, chunked bodies included, then the
// Kubernetes Status body (kube::parse_status).
#include "fuzz_common.hpp"
#include "kube.hpp"

#include <boost/beast/http.hpp>

namespace http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    parser.eager(true);
    boost::beast::error_code ec;
    parser.put(boost::asio::buffer(data, size), ec);
    if (!ec && !parser.is_done()) parser.put_eof(ec);
    if (parser.is_done()) {
        (void)parser.get().result_int();
        (void)parser.keep_alive();
        (void)stress::kube::parse_status(parser.get().body());
    }
    (void)stress::kube::parse_status(std::string(fuzz::text(data, size)));
    return 0;
}
