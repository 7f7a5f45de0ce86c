// Tests for helper/targets: TARGETS = "pod:namespace:containers;..." (docs/litmus-contract.md §2).
#include "config.hpp"
#include "targets.hpp"
#include "text.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <string>
#include <vector>

namespace {

std::string error_of(const std::string& targets, const std::string& source = "TARGETS") {
    try {
        stress::parse_targets(targets, source);
    } catch (const stress::ConfigError& e) {
        return e.what();
    }
    FAIL("expected a ConfigError for TARGETS=" << targets);
    return {};
}

} // namespace

TEST_CASE("targets: good values", "[targets]") {
    SECTION("all, in any case") {
        for (const char* all : {"all", "ALL", "All", "aLl"}) {
            auto t = stress::parse_targets(std::string("p:ns:") + all);
            REQUIRE(t.size() == 1);
            CHECK(t[0].pod == "p");
            CHECK(t[0].ns == "ns");
            CHECK(t[0].all_containers);
            CHECK(t[0].containers.empty());
        }
    }
    SECTION("a container list keeps its order") {
        auto t = stress::parse_targets("p:ns:b,a");
        REQUIRE(t.size() == 1);
        CHECK_FALSE(t[0].all_containers);
        CHECK(t[0].containers == std::vector<std::string>{"b", "a"});
    }
    SECTION("several pods") {
        auto t = stress::parse_targets("p1:ns:a;p2:ns2:all");
        REQUIRE(t.size() == 2);
        CHECK(t[0].pod == "p1");
        CHECK(t[0].ns == "ns");
        CHECK(t[0].containers == std::vector<std::string>{"a"});
        CHECK(t[1].pod == "p2");
        CHECK(t[1].ns == "ns2");
        CHECK(t[1].all_containers);
    }
    SECTION("a trailing ';' and empty entries are skipped") {
        CHECK(stress::parse_targets("p:ns:a;").size() == 1);
        CHECK(stress::parse_targets(";;p:ns:a;;q:ns:b;").size() == 2);
    }
    SECTION("the same pod name in two namespaces is two pods") {
        CHECK(stress::parse_targets("p:ns1:a;p:ns2:a").size() == 2);
    }
    SECTION("Kubernetes names: dots in pod names, digits first, 63/253 characters") {
        auto t = stress::parse_targets("web-0.example:kube-system:c1");
        CHECK(t[0].pod == "web-0.example");
        const std::string label63(63, 'a');
        std::string pod253 = label63 + "." + label63 + "." + label63 + "." + std::string(61, 'b');
        REQUIRE(pod253.size() == 253);
        CHECK(stress::parse_targets(pod253 + ":" + label63 + ":" + label63)[0].pod == pod253);
        CHECK(stress::parse_targets("0web:1ns:2c")[0].containers == std::vector<std::string>{"2c"});
    }
}

TEST_CASE("targets: the recorded pod fixture", "[targets]") {
    std::ifstream in(std::string(FIXTURES_DIR) + "/k8s-pod-running-containerd.json");
    REQUIRE(in);
    const auto pod = nlohmann::json::parse(in);
    const std::string name = pod.at("metadata").at("name");
    const std::string ns = pod.at("metadata").at("namespace");
    std::string containers;
    std::vector<std::string> names;
    for (const auto& c : pod.at("spec").at("containers")) {
        names.push_back(c.at("name"));
        containers += (containers.empty() ? "" : ",") + names.back();
    }
    REQUIRE(names.size() == 2);
    auto t = stress::parse_targets(name + ":" + ns + ":" + containers);
    REQUIRE(t.size() == 1);
    CHECK(t[0].pod == name);
    CHECK(t[0].ns == ns);
    CHECK(t[0].containers == names);
}

TEST_CASE("targets: bad values name TARGETS, the value and the bad entry", "[targets]") {
    struct Bad {
        std::string value;
        std::string entry; // "" when the error is about the whole value
        std::string reason;
    };
    const std::vector<Bad> cases = {
        {"", "", "expected at least one pod:namespace:containers entry"},
        {";", "", "expected at least one"},
        {";;;", "", "expected at least one"},
        {"p:ns", "p:ns", "expected pod:namespace:containers"},
        {"p", "p", "expected pod:namespace:containers"},
        {"p:ns:a:b", "p:ns:a:b", "expected pod:namespace:containers"},
        {"good:ns:a;bad", "bad", "expected pod:namespace:containers"},
        {":ns:a", ":ns:a", "empty pod name"},
        {"p::a", "p::a", "empty namespace"},
        {"p:ns:", "p:ns:", "empty container name"},
        {"p:ns:a,,b", "p:ns:a,,b", "empty container name"},
        {"p:ns:a,", "p:ns:a,", "empty container name"},
        {"p:ns:a,all", "p:ns:a,all", "\"all\" cannot be combined"},
        {"P:ns:a", "P:ns:a", "pod name \"P\" is not a Kubernetes name"},
        {"../x:ns:a", "../x:ns:a", "pod name \"../x\""},
        {"p%2F:ns:a", "p%2F:ns:a", "pod name \"p%2F\""},
        {"p.:ns:a", "p.:ns:a", "pod name \"p.\""},
        {"p:ns/x:a", "p:ns/x:a", "namespace \"ns/x\" is not a Kubernetes namespace"},
        {"p:my.ns:a", "p:my.ns:a", "namespace \"my.ns\""},
        {"p:ns:a b", "p:ns:a b", "container name \"a b\" is not a Kubernetes container name"},
        {"p:ns: a", "p:ns: a", "container name \" a\""},
        {"p:ns:App", "p:ns:App", "container name \"App\""},
        {"p:ns:-a", "p:ns:-a", "container name \"-a\""},
        {"p:ns:" + std::string(64, 'a'), "p:ns:" + std::string(64, 'a'), "is not a Kubernetes container name"},
        {"p:ns:a,a", "p:ns:a,a", "container \"a\" is listed twice"},
        {"p:ns:a;p:ns:b", "p:ns:b", "pod ns/p is listed twice"},
        {"p:ns:a\n", "p:ns:a\n", "container name \"a\\n\""},
    };
    for (const auto& c : cases) {
        SECTION("TARGETS=" + c.value) {
            const std::string message = error_of(c.value);
            INFO("message: " << message);
            CHECK(message.rfind("TARGETS=" + stress::quote_value(c.value) + ": ", 0) == 0);
            if (!c.entry.empty()) CHECK(message.find("entry " + stress::quote_value(c.entry)) != std::string::npos);
            CHECK(message.find(c.reason) != std::string::npos);
        }
    }
}

TEST_CASE("targets: errors name the flag when the value came from --targets", "[targets]") {
    CHECK(error_of("x", "--targets").rfind("--targets=\"x\": entry \"x\"", 0) == 0);
}
