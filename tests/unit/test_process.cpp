// /proc/PID/io parsing and PausedChild's reading of an exited child's accounting (helper/process.cpp).
#include "process.hpp"

#include <catch2/catch.hpp>

#include <poll.h>

using namespace stress;

TEST_CASE("process: /proc/PID/io as the kernel writes it", "[process]") {
    auto io = parse_proc_io("rchar: 1700000000\nwchar: 1698693120\nsyscr: 26068\nsyscw: 25920\n"
                            "read_bytes: 0\nwrite_bytes: 1698693120\ncancelled_write_bytes: 1677721600\n");
    REQUIRE(io);
    REQUIRE(io->rchar == 1700000000);
    REQUIRE(io->wchar == 1698693120);
    REQUIRE(io->read_bytes == 0);
    REQUIRE(io->write_bytes == 1698693120);
    REQUIRE(io->cancelled_write_bytes == 1677721600);
}

TEST_CASE("process: /proc/PID/io without rchar/wchar or with garbage is not invented", "[process]") {
    REQUIRE_FALSE(parse_proc_io(""));
    REQUIRE_FALSE(parse_proc_io("wchar: 12\n"));
    REQUIRE_FALSE(parse_proc_io("rchar: 12x\nwchar: 12\n"));
    REQUIRE_FALSE(parse_proc_io("rchar: -1\nwchar: 12\n"));
    REQUIRE(parse_proc_io("rchar: 1\nwchar: 2\nwrite_bytes: junk\n")->wchar == 2);
}

TEST_CASE("process: an exited child's accounting includes what its reaped children wrote", "[process]") {
    // dd (a grandchild, reaped by the child) writes 3 MiB to /dev/null; the child is busybox-free
    // coreutils `timeout`, which waits for and reaps dd.
    PausedChild child({"/usr/bin/timeout", "10", "/usr/bin/dd", "if=/dev/zero", "of=/dev/null", "bs=1M", "count=3",
                       "status=none"});
    REQUIRE_FALSE(child.io_accounting() == std::nullopt); // a running child has accounting too
    child.release();
    pollfd exited{child.pidfd(), POLLIN, 0};
    REQUIRE(::poll(&exited, 1, 10000) == 1);
    auto io = child.io_accounting();
    REQUIRE(io);
    REQUIRE(io->wchar >= 3u * 1024 * 1024);
    child.reap();
    REQUIRE(child.exit_status() == 0);
    REQUIRE_FALSE(child.io_accounting()); // reaped: nothing left to read
}
