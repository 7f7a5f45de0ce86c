#include "kube.hpp"

#include "asio_step.hpp"
#include "files.hpp"
#include "fd.hpp"
#include "log.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <cstdio>
#include <thread>

namespace stress::kube {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A pod or a ChaosResult is a few KiB; this only bounds a misbehaving server.
constexpr std::uint64_t body_limit = 64 * 1024 * 1024;

std::string seconds_text(milliseconds ms) {
    char buf[32];
    if (ms.count() < 1000)
        std::snprintf(buf, sizeof buf, "%lld ms", static_cast<long long>(ms.count()));
    else if (ms.count() % 1000 == 0)
        std::snprintf(buf, sizeof buf, "%lld s", static_cast<long long>(ms.count() / 1000));
    else
        std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(ms.count()) / 1000.0);
    return buf;
}

std::string trim(std::string text) {
    const char* space = " \t\r\n";
    text.erase(0, text.find_first_not_of(space));
    const auto last = text.find_last_not_of(space);
    text.erase(last == std::string::npos ? 0 : last + 1);
    return text;
}

// The whole file, or Error(HelperError, "open <what> <path>: <errno text>").
std::string read_file(const std::string& path, const std::string& what) {
    const char* failed_call = "read";
    auto text = read_text(path, &failed_call);
    if (!text) throw_sys(ErrorCode::HelperError, std::string(failed_call) + " " + what + " " + path);
    return *text;
}

bool is_ip_literal(const std::string& host) {
    boost::system::error_code ec;
    asio::ip::make_address(host, ec);
    return !ec;
}

// Printable start of a body that is not a Status, for the error message.
std::string body_excerpt(const std::string& body) {
    std::string out;
    for (char c : body.substr(0, 200)) out += (static_cast<unsigned char>(c) < 0x20) ? ' ' : c;
    if (body.size() > 200) out += "...";
    return trim(out);
}

} // namespace

RetryPolicy retry_policy(int timeout_s, int delay_s) {
    RetryPolicy policy;
    policy.delay = milliseconds(1000LL * delay_s);
    policy.budget = milliseconds(1000LL * timeout_s);
    return policy;
}

std::string host_port(const std::string& host, const std::string& port) {
    // An IPv6 literal needs brackets in a URL and a Host header (net.JoinHostPort does the same).
    if (host.find(':') != std::string::npos) return "[" + host + "]:" + port;
    return host + ":" + port;
}

std::string path_segment(const std::string& text) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
            c == '_' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 0xf];
        }
    }
    return out;
}

ClientConfig in_cluster_config(const EnvLookup& env, const std::string& sa_dir) {
    const auto value = [&](const char* name) { return env(name).value_or(""); };
    std::string host = value("KUBERNETES_SERVICE_HOST");
    const std::string port = value("KUBERNETES_SERVICE_PORT");
    if (host.empty() || port.empty()) {
        throw ConfigError(std::string(host.empty() ? "KUBERNETES_SERVICE_HOST" : "KUBERNETES_SERVICE_PORT") +
                          " is not set: not running in a Kubernetes pod? (the kubelet sets KUBERNETES_SERVICE_HOST "
                          "and KUBERNETES_SERVICE_PORT in every container)");
    }
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    const bool digits = port.size() <= 5 && std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits || std::stoi(port) < 1 || std::stoi(port) > 65535)
        throw ConfigError("KUBERNETES_SERVICE_PORT=\"" + port + "\": expected a port number from 1 to 65535");

    ClientConfig config;
    config.host = host;
    config.port = port;
    config.token_file = sa_dir + "/token";
    config.ca_file = sa_dir + "/ca.crt";
    for (const auto& file : {config.token_file, config.ca_file}) {
        if (::access(file.c_str(), R_OK) != 0) {
            throw ConfigError("open " + file + ": " + errno_text(errno) +
                              " (the pod's service-account token and CA are not mounted there: "
                              "automountServiceAccountToken: false?)");
        }
    }
    return config;
}

ApiStatus parse_status(const std::string& body) {
    const auto json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (!json.is_object() || !json.contains("kind") || json["kind"] != "Status") return {};
    ApiStatus status;
    if (json.contains("reason") && json["reason"].is_string()) status.reason = json["reason"];
    if (json.contains("message") && json["message"].is_string()) status.message = json["message"];
    return status;
}

ApiError::ApiError(ErrorCode code, std::string method, std::string path, unsigned http_status, ApiStatus status,
                   const std::string& message, bool certificate_rejected)
    : Error(code, message), method_(std::move(method)), path_(std::move(path)), http_status_(http_status),
      status_(std::move(status)), certificate_rejected_(certificate_rejected) {}

ApiError::ApiError(ErrorCode code, const ApiError& other, std::string target)
    : Error(code, other.what(), target.empty() ? other.target() : std::move(target)), method_(other.method_),
      path_(other.path_), http_status_(other.http_status_), status_(other.status_),
      certificate_rejected_(other.certificate_rejected_) {}

// One TLS connection to the API server, kept between requests. The members are declared in the
// order they must be built: the SSL object takes the context's settings when it is created.
struct Client::Connection {
    explicit Connection(ssl::context configured) : tls(std::move(configured)), stream(io, tls) {}

    asio::io_context io;
    ssl::context tls;
    ssl::stream<tcp::socket> stream;
};

namespace {

// The TLS settings of a new connection. The CA file is read for every new connection (not once per
// Client): a rotated CA bundle is picked up by the next connection, and with keep-alive that costs
// one parse per connection.
ssl::context tls_context(const std::string& ca_file) {
    ssl::context tls(ssl::context::tls_client);
    tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                    ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    // Read first, so that a missing file is reported with its errno text rather than an OpenSSL code.
    if (trim(read_file(ca_file, "CA certificate")).empty())
        throw Error(ErrorCode::HelperError, "CA certificate " + ca_file + " is empty");
    beast::error_code ec;
    tls.load_verify_file(ca_file, ec);
    if (ec) throw Error(ErrorCode::HelperError, "load CA certificate " + ca_file + ": " + ec.message());
    tls.set_verify_mode(ssl::verify_peer);
    return tls;
}

// Connects `socket` to the first of `endpoints` that answers: success, the last address's error, or
// nullopt when the deadline passed.
std::optional<beast::error_code> dial(asio::io_context& io, tcp::socket& socket, const tcp::resolver::results_type& endpoints,
                 const Deadline& deadline) {
    // Each address in turn, as asio::async_connect would, but on a socket made with SOCK_CLOEXEC
    // (asio's own has no close-on-exec): a kept connection must not be inherited by the stress
    // processes the helper starts, or it would outlive the helper.
    beast::error_code last_error = asio::error::host_not_found;
    for (const auto& entry : endpoints) {
        const tcp::endpoint endpoint = entry.endpoint();
        beast::error_code ec;
        if (socket.is_open()) socket.close(ec);
        UniqueFd fd{::socket(endpoint.protocol().family(), SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP)};
        if (!fd) {
            last_error = beast::error_code(errno, boost::system::system_category());
            continue;
        }
        socket.assign(endpoint.protocol(), fd.get(), ec);
        if (ec) {
            last_error = ec;
            continue;
        }
        fd.release(); // the socket owns it now
        auto step = run_step(io, socket, deadline, [&](auto done) { socket.async_connect(endpoint, done); });
        if (!step || !*step) return step;
        last_error = *step;
    }
    return last_error;
}

// A keep-alive HTTP/1.1 request with its Host, User-Agent, Accept and (with a token) Authorization.
http::request<http::string_body> make_request(http::verb verb, const std::string& path, const std::string& authority,
                                              const std::string& token, const std::string& body,
                                              const std::string& content_type) {
    http::request<http::string_body> request{verb, path, 11};
    request.set(http::field::host, authority);
    request.set(http::field::user_agent, "litmus-stress-helper/" STRESS_HELPER_VERSION);
    request.set(http::field::accept, "application/json");
    if (!token.empty()) request.set(http::field::authorization, "Bearer " + token);
    if (!content_type.empty()) request.set(http::field::content_type, content_type);
    request.body() = body;
    request.keep_alive(true);
    request.prepare_payload();
    return request;
}

} // namespace

Client::Client(ClientConfig config) : config_(std::move(config)) {}

Client::~Client() = default;

std::unique_ptr<Client::Connection> Client::connect(const std::string& method, const std::string& path,
                                                    const std::string& what) {
    const std::string authority = host_port(config_.host, config_.port);
    const auto no_answer = [&](const std::string& why) {
        return ApiError(ErrorCode::HelperError, method, path, 0, {}, what + ": " + why);
    };

    auto connection = std::make_unique<Connection>(tls_context(config_.ca_file));
    asio::io_context& io = connection->io;
    ssl::stream<tcp::socket>& stream = connection->stream;
    tcp::socket& socket = stream.next_layer();

    // The certificate must name the host we dialled: an IP SAN for an IP (the in-cluster case,
    // KUBERNETES_SERVICE_HOST is the service IP), a DNS SAN otherwise. OpenSSL checks it during
    // the handshake and fails it with X509_V_ERR_{IP_ADDRESS,HOSTNAME}_MISMATCH.
    SSL* ssl_handle = stream.native_handle();
    if (is_ip_literal(config_.host)) {
        if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_handle), config_.host.c_str()) != 1)
            throw no_answer("cannot set the IP address to verify: " + config_.host);
    } else {
        if (SSL_set1_host(ssl_handle, config_.host.c_str()) != 1 ||
            SSL_set_tlsext_host_name(ssl_handle, config_.host.c_str()) != 1)
            throw no_answer("cannot set the host name to verify: " + config_.host);
    }

    // Connect: the host is an IP in-cluster, so this "resolve" does not touch DNS; a name (from a
    // kubeconfig) would be resolved synchronously, which getaddrinfo bounds by itself.
    tcp::resolver resolver(io);
    beast::error_code ec;
    const auto endpoints = resolver.resolve(config_.host, config_.port, ec);
    if (ec) throw no_answer("resolve " + config_.host + ": " + ec.message());

    const Deadline connect_deadline(config_.connect_timeout); // TCP connect and TLS handshake
    const auto dialled = dial(io, socket, endpoints, connect_deadline);
    if (!dialled) throw no_answer("connect to " + authority + ": no connection within " + seconds_text(config_.connect_timeout));
    if (*dialled) throw no_answer("connect to " + authority + ": " + dialled->message());
    // Beast writes a request's header and body separately: on a kept connection Nagle would hold
    // the body back until the server's delayed ACK of the header (tens of ms per PATCH/PUT/POST).
    socket.set_option(tcp::no_delay(true), ec);

    auto step = run_step(io, socket, connect_deadline,
                         [&](auto done) { stream.async_handshake(ssl::stream_base::client, done); });
    if (!step)
        throw no_answer("TLS handshake with " + authority + ": no answer within " + seconds_text(config_.connect_timeout));
    if (*step) {
        const long verify = SSL_get_verify_result(ssl_handle);
        if (verify != X509_V_OK) {
            throw ApiError(ErrorCode::HelperError, method, path, 0, {},
                           what + ": TLS: the server certificate was rejected: " +
                               X509_verify_cert_error_string(verify) + " (verified against the CA in " +
                               config_.ca_file + " for the name " + config_.host + ")",
                           /*certificate_rejected=*/true);
        }
        throw no_answer("TLS handshake with " + authority + ": " + step->message());
    }
    log::debug("[Kube]: connected", {{"server", authority}});
    return connection;
}

Response Client::send(const std::string& method, const std::string& path, const std::string& body,
                      const std::string& content_type) {
    const std::string authority = host_port(config_.host, config_.port);
    const std::string what = method + " " + path + " (" + authority + ")";
    const auto no_answer = [&](const std::string& why) {
        return ApiError(ErrorCode::HelperError, method, path, 0, {}, what + ": " + why);
    };

    const http::verb verb = http::string_to_verb(method);
    if (verb == http::verb::unknown) throw Error(ErrorCode::HelperError, what + ": unknown HTTP method");

    // Bound tokens are rotated by the kubelet (about hourly): read the file for every request.
    const std::string token =
        config_.token_file.empty() ? std::string() : trim(read_file(config_.token_file, "service-account token"));
    const auto request = make_request(verb, path, authority, token, body, content_type);

    const std::lock_guard lock(mutex_);
    for (;;) {
        const bool reused = connection_ != nullptr;
        if (!reused) connection_ = connect(method, path, what);
        asio::io_context& io = connection_->io;
        ssl::stream<tcp::socket>& stream = connection_->stream;
        tcp::socket& socket = stream.next_layer();
        // Whatever goes wrong below, the connection is not used again.
        const auto fail = [&](ApiError error) {
            connection_.reset();
            return error;
        };
        // The server closed a kept connection while it was idle: the request never reached it, or
        // (a drop right after it arrived) is one that may be sent twice (GET, merge PATCH, PUT with a
        // resourceVersion, POST of a fixed name). Once: a new connection does not go stale at once.
        const auto stale = [&](const beast::error_code& e) {
            connection_.reset();
            log::debug("[Kube]: the kept connection was closed by the server, sending again on a new one",
                       {{"method", method}, {"path", path}, {"err", e.message()}});
        };

        // One deadline for request and response.
        const Deadline read_deadline(config_.read_timeout);
        const auto timed_out = [&] {
            return fail(no_answer("no complete answer within the read timeout of " + seconds_text(config_.read_timeout)));
        };
        auto step = run_step(io, socket, read_deadline, [&](auto done) { http::async_write(stream, request, done); });
        if (!step) throw timed_out();
        if (*step) {
            if (reused) {
                stale(*step);
                continue;
            }
            throw fail(no_answer("send the request: " + step->message()));
        }

        beast::flat_buffer buffer;
        http::response_parser<http::string_body> parser;
        parser.body_limit(body_limit);
        step = run_step(io, socket, read_deadline, [&](auto done) { http::async_read(stream, buffer, parser, done); });
        if (!step) throw timed_out();
        if (*step) {
            if (reused && !parser.got_some() && buffer.size() == 0) {
                stale(*step);
                continue;
            }
            if (*step == http::error::end_of_stream || *step == asio::error::eof ||
                *step == ssl::error::stream_truncated || *step == asio::error::connection_reset)
                throw fail(no_answer("the server closed the connection without a complete answer (" + step->message() +
                                     ")"));
            throw fail(no_answer("read the answer: " + step->message()));
        }

        Response response;
        response.status = parser.get().result_int();
        response.body = std::move(parser.get().body());
        // Closed after an answer that says so (Connection: close, HTTP/1.0, or no length: the body
        // ended with the connection), after bytes beyond the answer (out of step), and after an
        // error answer: a refused token or a server in trouble is the end of a run or a retry in
        // seconds, and behind the service IP a new connection may reach another API server.
        const bool keep = parser.get().version() >= 11 && parser.keep_alive() && buffer.size() == 0 &&
                          response.status != 401 && response.status != 403 && response.status != 429 &&
                          response.status < 500;
        if (!keep) connection_.reset();
        log::debug("[Kube]: API call", {{"method", method},
                                        {"path", path},
                                        {"status", std::to_string(response.status)},
                                        {"connection", reused ? "reused" : "new"}});
        return response;
    }
}

nlohmann::json Client::call(const std::string& method, const std::string& path, const nlohmann::json* body,
                            const std::string& content_type) {
    // `replace`: a reason text with invalid UTF-8 (e.g. stress-ng output) must not make the write-back throw.
    const std::string payload =
        body ? body->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) : std::string();
    const Response response = send(method, path, payload, body ? content_type : std::string());
    const std::string what = method + " " + path + " (" + host_port(config_.host, config_.port) + ")";

    if (response.status < 200 || response.status >= 300) {
        ApiStatus status = parse_status(response.body);
        std::string message = what + ": HTTP " + std::to_string(response.status) + " " +
                              (status.reason.empty() ? std::string(http::obsolete_reason(http::int_to_status(response.status)))
                                                     : status.reason);
        if (!status.message.empty())
            message += ": " + status.message;
        else if (!response.body.empty())
            message += ": " + body_excerpt(response.body);
        if (response.status == 401) {
            message += " (the API server rejected the service-account token from " +
                       (config_.token_file.empty() ? std::string("(none)") : config_.token_file) +
                       ": expired, revoked, or issued by another cluster)";
        } else if (response.status == 403) {
            message += " (the helper's service account is not allowed to do this: check its Role/RoleBinding)";
        }
        throw ApiError(ErrorCode::HelperError, method, path, response.status, std::move(status), message);
    }
    if (trim(response.body).empty()) return nlohmann::json::object();
    try {
        return nlohmann::json::parse(response.body);
    } catch (const nlohmann::json::parse_error& e) {
        throw ApiError(ErrorCode::HelperError, method, path, response.status, {},
                       what + ": the answer is not JSON: " + e.what());
    }
}

void Client::with_retry(const std::function<void()>& attempt, OnConflict on_conflict) {
    const auto start = Clock::now();
    const auto deadline = start + config_.retry.budget;
    for (int attempts = 1;; ++attempts) {
        try {
            attempt();
            return;
        } catch (const ApiError& e) {
            if (!e.transient() && !(on_conflict == OnConflict::Retry && e.conflict())) throw;
            const auto stopped = [&] { return config_.retry.abort && config_.retry.abort->requested(); };
            if (stopped()) throw;
            if (Clock::now() + config_.retry.delay > deadline) {
                const auto spent = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
                throw ApiError(e.code(), e.method(), e.path(), e.http_status(), {e.api_reason(), e.api_message()},
                               std::string(e.what()) + " (gave up after " + std::to_string(attempts) + " attempt" +
                                   (attempts == 1 ? "" : "s") + " in " + seconds_text(spent) + ", retry budget " +
                                   seconds_text(config_.retry.budget) + ")");
            }
            log::warn("[Retry]: Kubernetes API call failed, trying again",
                      {{"attempt", std::to_string(attempts)}, {"err", e.what()},
                       {"retryIn", seconds_text(config_.retry.delay)}});
            for (const auto wake = Clock::now() + config_.retry.delay; Clock::now() < wake;) {
                if (stopped()) throw;
                std::this_thread::sleep_for(std::min<Clock::duration>(milliseconds(100), wake - Clock::now()));
            }
        }
    }
}

nlohmann::json Client::get(const std::string& path) {
    nlohmann::json result;
    with_retry([&] { result = call("GET", path); });
    return result;
}

std::optional<nlohmann::json> Client::get_if_exists(const std::string& path) {
    std::optional<nlohmann::json> result;
    with_retry([&] {
        try {
            result = call("GET", path);
        } catch (const ApiError& e) {
            if (!e.not_found()) throw;
            result.reset();
        }
    });
    return result;
}

nlohmann::json Client::merge_patch(const std::string& path, const nlohmann::json& patch) {
    nlohmann::json result;
    with_retry([&] { result = call("PATCH", path, &patch, "application/merge-patch+json"); });
    return result;
}

nlohmann::json Client::update(const std::string& path, const std::function<void(nlohmann::json&)>& mutate) {
    nlohmann::json stored;
    with_retry(
        [&] {
            nlohmann::json object = call("GET", path);
            mutate(object);
            stored = call("PUT", path, &object);
        },
        OnConflict::Retry);
    return stored;
}

} // namespace stress::kube
