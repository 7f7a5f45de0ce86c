// Tests for helper/log: logrus TextFormatter lines (docs/litmus-contract.md §8).
// The expected texts are what logrus v1 prints: needsQuoting + fmt's %q (strconv.Quote).
#include "log.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <sstream>
#include <string>
#include <vector>

using stress::log::Level;
using stress::log::format_line;
using stress::log::quote_if_needed;

TEST_CASE("log: values are bare only when logrus leaves them bare", "[log]") {
    CHECK(quote_if_needed("abc") == "abc");
    CHECK(quote_if_needed("Pod-1.x_y/z@a^b+c") == "Pod-1.x_y/z@a^b+c");
    CHECK(quote_if_needed("42") == "42");
    CHECK(quote_if_needed("") == ""); // QuoteEmptyFields is off in Litmus
    CHECK(quote_if_needed("a b") == "\"a b\"");
    CHECK(quote_if_needed("a=b") == "\"a=b\"");
    CHECK(quote_if_needed("k8s.io:x") == "\"k8s.io:x\"");
    CHECK(quote_if_needed("10%") == "\"10%\"");
    CHECK(quote_if_needed("[Info]") == "\"[Info]\"");
}

TEST_CASE("log: quoted values use Go %q escapes", "[log]") {
    CHECK(quote_if_needed("say \"hi\"") == "\"say \\\"hi\\\"\"");
    CHECK(quote_if_needed("C:\\x") == "\"C:\\\\x\"");
    CHECK(quote_if_needed("line\nbreak") == "\"line\\nbreak\"");
    CHECK(quote_if_needed("a\tb\rc") == "\"a\\tb\\rc\"");
    CHECK(quote_if_needed(std::string("nul\0x", 5)) == "\"nul\\x00x\"");
    CHECK(quote_if_needed("\x1b[31m") == "\"\\x1b[31m\"");
    CHECK(quote_if_needed("del\x7f") == "\"del\\x7f\"");
    CHECK(quote_if_needed("caf\xc3\xa9") == "\"caf\xc3\xa9\""); // printable UTF-8 stays as it is
}

TEST_CASE("log: Go %q details: C escapes, invalid UTF-8, empty msg", "[log]") {
    // strconv.Quote writes \a \b \f \v, not \x07 \x08 \x0c \x0b
    CHECK(quote_if_needed("\a") == "\"\\a\"");
    CHECK(quote_if_needed("\b") == "\"\\b\"");
    CHECK(quote_if_needed("\f") == "\"\\f\"");
    CHECK(quote_if_needed("\v") == "\"\\v\"");
    // invalid UTF-8 is escaped byte by byte
    CHECK(quote_if_needed("\xff") == "\"\\xff\"");
    // logrus leaves out msg= when the message is empty
    CHECK(format_line(Level::Info, "", {}, "2026-01-02T03:04:05Z") == "time=\"2026-01-02T03:04:05Z\" level=info");
}

TEST_CASE("log: line format", "[log]") {
    const std::string t = "2026-01-02T03:04:05Z";
    CHECK(format_line(Level::Info, "[Info]: Details of Stressor:", {}, t) ==
          "time=\"2026-01-02T03:04:05Z\" level=info msg=\"[Info]: Details of Stressor:\"");
    SECTION("fields are sorted by key and quoted one by one") {
        CHECK(format_line(Level::Info, "[Info]: x", {{"Timeout", "30"}, {"CPU Core", "2"}, {"app", "a b"}, {"Z", ""}}, t) ==
              "time=\"2026-01-02T03:04:05Z\" level=info msg=\"[Info]: x\" CPU Core=2 Timeout=30 Z= app=\"a b\"");
    }
    SECTION("level names") {
        CHECK(format_line(Level::Debug, "m", {}, t) == "time=\"2026-01-02T03:04:05Z\" level=debug msg=m");
        CHECK(format_line(Level::Warning, "m", {}, t) == "time=\"2026-01-02T03:04:05Z\" level=warning msg=m");
        CHECK(format_line(Level::Error, "m", {}, t) == "time=\"2026-01-02T03:04:05Z\" level=error msg=m");
        CHECK(format_line(Level::Fatal, "m", {}, t) == "time=\"2026-01-02T03:04:05Z\" level=fatal msg=m");
    }
    SECTION("a message with a newline stays on one line") {
        const std::string line = format_line(Level::Error, "helper pod failed, err: a\nb", {{"k", "v\nw"}}, t);
        CHECK(line.find('\n') == std::string::npos);
        CHECK(line == "time=\"2026-01-02T03:04:05Z\" level=error msg=\"helper pod failed, err: a\\nb\" k=\"v\\nw\"");
    }
}

namespace {

// Runs fn with stderr redirected to a pipe and returns what was written.
template <typename Fn>
std::string capture_stderr(Fn fn) {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    const int saved = ::dup(STDERR_FILENO);
    REQUIRE(saved >= 0);
    REQUIRE(::dup2(fds[1], STDERR_FILENO) == STDERR_FILENO);
    ::close(fds[1]);
    fn();
    ::dup2(saved, STDERR_FILENO);
    ::close(saved);
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    ::close(fds[0]);
    return out;
}

// Checks that the line starts with time="YYYY-MM-DDTHH:MM:SSZ" (RFC 3339, UTC) and returns the rest.
std::string without_time(const std::string& line) {
    const std::string shape = "time=\"dddd-dd-ddTdd:dd:ddZ\"";
    REQUIRE(line.size() >= shape.size());
    for (size_t i = 0; i < shape.size(); ++i) {
        INFO(line);
        if (shape[i] == 'd') REQUIRE((line[i] >= '0' && line[i] <= '9'));
        else REQUIRE(line[i] == shape[i]);
    }
    return line.substr(shape.size());
}

} // namespace

TEST_CASE("log: write puts one line on stderr; debug only when enabled", "[log]") {
    const std::string out = capture_stderr([] {
        stress::log::set_debug(false);
        stress::log::debug("hidden");
        stress::log::info("[Info]: shown", {{"pod", "web"}});
        stress::log::set_debug(true);
        stress::log::debug("visible");
        stress::log::set_debug(false);
    });
    INFO(out);
    std::vector<std::string> lines;
    std::istringstream in(out);
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    REQUIRE(lines.size() == 2);
    CHECK(out.back() == '\n');
    CHECK(without_time(lines[0]) == " level=info msg=\"[Info]: shown\" pod=web");
    CHECK(without_time(lines[1]) == " level=debug msg=visible");
    CHECK(out.find("hidden") == std::string::npos);
}
