// nsexec's command line (nsenter/nsexec_args.cpp): chaos-mesh compatible forms, fixed join order, errors.
#include "nsexec_args.hpp"

#include <catch2/catch.hpp>

#include <sched.h>

using nsexec::Args;
using nsexec::Ns;
using nsexec::parse_args;
using Words = std::vector<std::string>;

TEST_CASE("nsexec: chaos-mesh's command line is accepted verbatim", "[nsexec]") {
    Args a = parse_args({"-m", "/proc/42/ns/mnt", "-p", "/proc/42/ns/pid", "-l", "--", "stress-ng", "--cpu", "1"});
    REQUIRE(a.local);
    REQUIRE(a.library_path == "/usr/local/lib/libnsenter.so");
    REQUIRE(a.command == Words{"stress-ng", "--cpu", "1"});
    REQUIRE(a.namespaces.size() == 2);
    // Joined in the fixed order: pid before mnt, whatever the order on the command line.
    REQUIRE(a.namespaces[0].ns == Ns::Pid);
    REQUIRE(a.namespaces[0].path == "/proc/42/ns/pid");
    REQUIRE(a.namespaces[1].ns == Ns::Mnt);
}

TEST_CASE("nsexec: the example of chaos-mesh's README (no --, -l before the command)", "[nsexec]") {
    Args a = parse_args({"-m", "/proc/1234/ns/mnt", "-l", "/bin/bash"});
    REQUIRE(a.local);
    REQUIRE(a.namespaces.size() == 1);
    REQUIRE(a.namespaces[0].ns == Ns::Mnt);
    REQUIRE(a.command == Words{"/bin/bash"});
}

TEST_CASE("nsexec: long forms, attached values and --library-path", "[nsexec]") {
    Args a = parse_args({"--mnt=/m", "--pid", "/p", "-n/n", "--uts", "/u", "-i", "/i", "--cgroup=/c", "--local",
                         "--library-path", "/lib/x.so", "--", "cmd"});
    REQUIRE(a.library_path == "/lib/x.so");
    std::vector<Ns> order;
    for (const auto& r : a.namespaces) order.push_back(r.ns);
    REQUIRE(order == std::vector<Ns>{Ns::Ipc, Ns::Uts, Ns::Net, Ns::Cgroup, Ns::Pid, Ns::Mnt});
    REQUIRE(a.namespaces[2].path == "/n");
    REQUIRE(a.namespaces[3].path == "/c");
    REQUIRE(parse_args({"--library-path=/y.so", "cmd"}).library_path == "/y.so");
}

TEST_CASE("nsexec: the command starts at the first non-option or after --", "[nsexec]") {
    REQUIRE(parse_args({"-p", "/p", "ls", "-l"}).command == Words{"ls", "-l"});
    // After "--", words that look like options belong to the command.
    Args a = parse_args({"--", "-weird", "-p"});
    REQUIRE(a.command == Words{"-weird", "-p"});
    REQUIRE(a.namespaces.empty());
    REQUIRE_FALSE(a.local);
}

TEST_CASE("nsexec: clone flags per namespace", "[nsexec]") {
    REQUIRE(nsexec::ns_clone_flag(Ns::Mnt) == CLONE_NEWNS);
    REQUIRE(nsexec::ns_clone_flag(Ns::Pid) == CLONE_NEWPID);
    REQUIRE(nsexec::ns_clone_flag(Ns::Cgroup) == CLONE_NEWCGROUP);
    REQUIRE(std::string(nsexec::ns_name(Ns::Net)) == "net");
}

TEST_CASE("nsexec: help", "[nsexec]") {
    REQUIRE(parse_args({"--help"}).help);
    REQUIRE(parse_args({"-h"}).help);
    REQUIRE(nsexec::usage_text().find("--library-path") != std::string::npos);
}

TEST_CASE("nsexec: bad command lines name the problem", "[nsexec]") {
    auto message = [](const Words& w) {
        try {
            parse_args(w);
        } catch (const std::invalid_argument& e) {
            return std::string(e.what());
        }
        return std::string("(no error)");
    };
    REQUIRE(message({"-p"}) == "option -p needs a PATH");
    REQUIRE(message({"--mnt"}) == "option --mnt needs a PATH");
    REQUIRE(message({"--mnt=", "x"}) == "option --mnt needs a PATH");
    REQUIRE(message({"--library-path"}) == "option --library-path needs a PATH");
    REQUIRE(message({"-x", "cmd"}) == "unknown option -x");
    REQUIRE(message({"--frobnicate", "cmd"}) == "unknown option --frobnicate");
    REQUIRE(message({"-p", "/a", "--pid", "/b", "cmd"}) == "the pid namespace is given twice (/a, /b)");
    REQUIRE(message({"-p", "/a"}).starts_with("no command given"));
    REQUIRE(message({"-p", "/a", "--"}).starts_with("no command given"));
    REQUIRE(message({}).starts_with("no command given"));
}
