// The text floor (helper/text.hpp): quoting for logs and errors, Go's JSON strings, name rules.
#include "fuzz_common.hpp"
#include "log.hpp"
#include "text.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view t = fuzz::text(data, size);
    (void)stress::go_quote(t);
    (void)stress::quote_value(t);
    std::string out;
    stress::append_go_json_string(out, t);
    (void)stress::is_rfc1123_subdomain(t);
    (void)stress::container_id_problem(t);
    (void)stress::split(t, ':');
    (void)stress::log::quote_if_needed(std::string(t));
    return 0;
}
