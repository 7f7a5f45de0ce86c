// The text floor (helper/text.cpp): UTF-8, Go's quoting and JSON strings, RFC 1123 names, RFC 3339, split.
#include "text.hpp"

#include <catch2/catch.hpp>

using namespace stress;

TEST_CASE("text: UTF-8 sequences, and what is not one", "[text]") {
    CHECK(utf8_sequence_length("\xc3\xa9", 0) == 2);
    CHECK(utf8_sequence_length("\xe2\x82\xac", 0) == 3);
    CHECK(utf8_sequence_length("\xf0\x9f\x98\x80", 0) == 4);
    CHECK(utf8_sequence_length("a", 0) == 0);
    CHECK(utf8_sequence_length("\xc0\xaf", 0) == 0);         // overlong
    CHECK(utf8_sequence_length("\xed\xa0\x80", 0) == 0);     // surrogate
    CHECK(utf8_sequence_length("\xf4\x90\x80\x80", 0) == 0); // beyond U+10FFFF
    CHECK(utf8_sequence_length("\xe2\x82", 0) == 0);         // cut short
    CHECK(utf8_sequence_length("x", 5) == 0);
}

TEST_CASE("text: go_quote is strconv.Quote", "[text]") {
    CHECK(go_quote("") == "\"\"");
    CHECK(go_quote("a\"b\\") == "\"a\\\"b\\\\\"");
    CHECK(go_quote("\a\b\f\n\r\t\v") == "\"\\a\\b\\f\\n\\r\\t\\v\"");
    CHECK(go_quote(std::string("\0\x1b\x7f", 3)) == "\"\\x00\\x1b\\x7f\"");
    CHECK(go_quote("caf\xc3\xa9") == "\"caf\xc3\xa9\"");
    CHECK(go_quote("\xff") == "\"\\xff\"");
}

TEST_CASE("text: quote_value cuts a huge value and says how long it was", "[text]") {
    CHECK(quote_value("1; touch /tmp/x") == "\"1; touch /tmp/x\"");
    const std::string q = quote_value(std::string(1000, 'x'));
    CHECK(q == "\"" + std::string(256, 'x') + "\"... (1000 bytes)");
}

TEST_CASE("text: Go's encoding/json strings", "[text]") {
    std::string out;
    append_go_json_string(out, "<a href=\"x\">&</a>\n\x01");
    CHECK(out == "\"\\u003ca href=\\\"x\\\"\\u003e\\u0026\\u003c/a\\u003e\\n\\u0001\"");
    out.clear();
    append_go_json_string(out, "ok \xc3\xa9 \xff \xe2\x80\xa8 \xe2\x80\xa9 \xe2\x82\xac");
    CHECK(out == "\"ok \xc3\xa9 \\ufffd \\u2028 \\u2029 \xe2\x82\xac\"");
}

TEST_CASE("text: RFC 1123 labels and subdomains", "[text]") {
    CHECK(is_rfc1123_label("shop-1"));
    CHECK_FALSE(is_rfc1123_label("Shop"));
    CHECK_FALSE(is_rfc1123_label("-shop"));
    CHECK_FALSE(is_rfc1123_label("shop-"));
    CHECK_FALSE(is_rfc1123_label(""));
    CHECK(is_rfc1123_label(std::string(63, 'a')));
    CHECK_FALSE(is_rfc1123_label(std::string(64, 'a')));
    CHECK(is_rfc1123_subdomain("web-0.shop"));
    CHECK_FALSE(is_rfc1123_subdomain("web..shop"));
    CHECK_FALSE(is_rfc1123_subdomain("web.shop."));
    CHECK_FALSE(is_rfc1123_subdomain(std::string(254, 'a')));
}

TEST_CASE("text: RFC 3339 time stamps and split", "[text]") {
    CHECK(rfc3339(0) == "1970-01-01T00:00:00Z");
    CHECK(rfc3339(1767323045) == "2026-01-02T03:04:05Z");
    CHECK(rfc3339_now().size() == 20);
    CHECK(split("a,,b", ',') == std::vector<std::string_view>{"a", "", "b"});
    CHECK(split("", ',') == std::vector<std::string_view>{""});
}

TEST_CASE("text: one rule for container IDs and names", "[text]") {
    CHECK(container_id_problem(std::string(64, 'f')).empty());
    CHECK(container_id_problem("web-1.app_x").empty());
    CHECK(container_id_problem("") == "empty");
    CHECK(container_id_problem(std::string(129, 'a')) == "longer than 128 characters");
    CHECK(container_id_problem(".") == "must start with a letter or digit");
    CHECK(container_id_problem("..") == "must start with a letter or digit");
    CHECK(container_id_problem("-x") == "must start with a letter or digit");
    CHECK_FALSE(container_id_problem("a b").empty());
    CHECK_FALSE(container_id_problem("x;rm").empty());
    CHECK_FALSE(container_id_problem("a/../b").empty());
}
