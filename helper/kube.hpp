// kube.hpp — a small Kubernetes API client over HTTPS (Boost.Beast + Boost.Asio + OpenSSL),
// configured the way Kubernetes configures a pod (in-cluster).
//
// Owns: the connection to the API server (TLS verified against the service account's CA and the
// server's host name or IP SAN; kept open between requests, HTTP/1.1 keep-alive, so that a run pays
// for one TLS handshake rather than one per call), the bearer token (re-read from its file for every
// request, since bound tokens rotate), timeouts, the retry policy, and turning a failed call into an
// ApiError that names the method, the path, the HTTP status and the API Status `message`.
// Knows nothing about Litmus (that is litmus.hpp).
//
// The token never appears in a log line or an error message.
#pragma once

#include "abort.hpp"
#include "env.hpp"
#include "error.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace stress::kube {

// Where the kubelet mounts the pod's service-account token, CA and namespace.
inline constexpr const char* service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount";

// Transient failures are retried every `delay` while the next attempt can start within `budget`
// (STATUS_CHECK_DELAY / STATUS_CHECK_TIMEOUT).
struct RetryPolicy {
    std::chrono::milliseconds delay{2000};
    std::chrono::milliseconds budget{180000};
    // Asked between attempts (and during the delay, every 100 ms): once requested, the retries end
    // with the last error at once, so that SIGTERM is not held up by a 180 s budget. nullptr: never.
    const AbortToken* abort = nullptr;
};

RetryPolicy retry_policy(int timeout_s, int delay_s);

struct ClientConfig {
    std::string host;                                    // IP or DNS name, without brackets
    std::string port = "443";
    std::string token_file;                              // read for every request; "" = no token
    std::string ca_file;                                 // PEM bundle the server certificate must chain to
    std::chrono::milliseconds connect_timeout{10000};    // TCP connect + TLS handshake
    std::chrono::milliseconds read_timeout{30000};       // request sent → whole response read
    RetryPolicy retry;
};

// In-cluster configuration exactly as Kubernetes provides it: KUBERNETES_SERVICE_HOST and
// KUBERNETES_SERVICE_PORT, and <sa_dir>/token, <sa_dir>/ca.crt. Throws ConfigError naming the
// variable or file that is missing or malformed (not in a pod → says so).
ClientConfig in_cluster_config(const EnvLookup& env, const std::string& sa_dir = service_account_dir);

// "10.96.0.1:443", "[fd00::1]:443", "api.example:6443" — the Host header and the URL authority.
std::string host_port(const std::string& host, const std::string& port);

// One path segment, percent-encoded (RFC 3986 unreserved characters stay as they are).
std::string path_segment(const std::string& text);

// The fields of a metav1.Status body we report; empty when the body is not a Status.
struct ApiStatus {
    std::string reason;   // "NotFound", "Conflict", "AlreadyExists", "Forbidden", ...
    std::string message;  // "pods \"x\" not found"
};
ApiStatus parse_status(const std::string& body);

// A failed API call. http_status() is 0 when no HTTP answer came (connect, TLS, timeout, dropped
// connection). The message reads like
//   GET /api/v1/namespaces/default/pods/x (10.96.0.1:443): HTTP 404 NotFound: pods "x" not found
class ApiError : public Error {
public:
    ApiError(ErrorCode code, std::string method, std::string path, unsigned http_status, ApiStatus status,
             const std::string& message, bool certificate_rejected = false);
    // The same failure reported under another errorCode and target (callers at a Litmus boundary).
    ApiError(ErrorCode code, const ApiError& other, std::string target = {});

    const std::string& method() const noexcept { return method_; }
    const std::string& path() const noexcept { return path_; }
    unsigned http_status() const noexcept { return http_status_; }
    const std::string& api_reason() const noexcept { return status_.reason; }
    const std::string& api_message() const noexcept { return status_.message; }

    bool not_found() const noexcept { return http_status_ == 404; }
    bool conflict() const noexcept { return http_status_ == 409; }
    // The server's certificate failed verification (wrong CA, wrong name, expired).
    bool certificate_rejected() const noexcept { return certificate_rejected_; }
    // No answer, a timeout, 5xx or 429: worth asking again. 4xx never is, and neither is a
    // rejected certificate (asking again for minutes would only delay the clear error).
    bool transient() const noexcept {
        if (certificate_rejected_) return false;
        return http_status_ == 0 || http_status_ >= 500 || http_status_ == 429;
    }

private:
    std::string method_;
    std::string path_;
    unsigned http_status_;
    ApiStatus status_;
    bool certificate_rejected_;
};

struct Response {
    unsigned status = 0;
    std::string body;
};

class Client {
public:
    explicit Client(ClientConfig config);
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    const ClientConfig& config() const noexcept { return config_; }

    // One HTTP exchange, on the connection kept from the previous one when there is one (the CA
    // file is read, and the certificate verified, once per new connection); any HTTP status is
    // returned. A kept connection the server closed in the meantime (idle timeout) is not an error:
    // when the request fails on it before a byte of the answer came, it is sent once more on a new
    // connection. The connection is closed after any failure, after an answer that asks for it
    // (Connection: close, HTTP/1.0) and after 401, 403, 429 and 5xx. Throws ApiError with
    // http_status 0 when no answer came (connect, TLS verification, timeout, dropped connection),
    // Error(HelperError) when the token file cannot be read. One call at a time (a mutex).
    Response send(const std::string& method, const std::string& path, const std::string& body = {},
                  const std::string& content_type = {});

    // One attempt: the JSON body of a 2xx answer; otherwise throws ApiError.
    nlohmann::json call(const std::string& method, const std::string& path, const nlohmann::json* body = nullptr,
                        const std::string& content_type = "application/json");

    // Runs `attempt` again after the retry delay while it throws a transient ApiError (and a 409
    // with OnConflict::Retry), as long as the next attempt starts within the budget. The error that
    // ends it says how many attempts were made.
    enum class OnConflict { Fail, Retry };
    void with_retry(const std::function<void()>& attempt, OnConflict on_conflict = OnConflict::Fail);

    // Retried reads and writes (all idempotent, so a repeat after a lost answer is harmless).
    nlohmann::json get(const std::string& path);
    std::optional<nlohmann::json> get_if_exists(const std::string& path);  // 404 → nullopt
    nlohmann::json merge_patch(const std::string& path, const nlohmann::json& patch);
    // GET, mutate, PUT (carrying the resourceVersion just read); a 409 Conflict means someone
    // wrote in between, so the whole cycle starts again. Returns the object the server stored.
    nlohmann::json update(const std::string& path, const std::function<void(nlohmann::json&)>& mutate);

private:
    struct Connection;
    std::unique_ptr<Connection> connect(const std::string& method, const std::string& path, const std::string& what);

    ClientConfig config_;
    std::mutex mutex_;                       // guards connection_
    std::unique_ptr<Connection> connection_;  // null: none open
};

} // namespace stress::kube
