// Unit tests for helper/cgroup: /proc/PID/cgroup on every recorded fixture, mountinfo samples of the
// layouts we meet (pure v2, hybrid like the dev machine, v1, a pod with a private cgroupns that mounts
// the host's /sys), resolution in and out of a cgroup namespace over a fake directory tree, counters.
#include "cgroup.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

using namespace stress;

namespace {

std::string read_fixture(const std::string& name) {
    std::ifstream in(std::string(FIXTURES_DIR) + "/" + name);
    REQUIRE(in.good());
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// A fake cgroup tree: every prefix of every listed path is a directory.
struct FakeTree {
    std::set<std::string> dirs;
    mutable int listings = 0;

    explicit FakeTree(std::initializer_list<std::string> paths) {
        for (const auto& p : paths) add(p);
    }
    void add(const std::string& path) {
        for (size_t pos = 1; pos <= path.size(); ++pos)
            if (pos == path.size() || path[pos] == '/') dirs.insert(path.substr(0, pos));
    }
    std::function<bool(const std::string&)> exists() const {
        return [this](const std::string& p) { return dirs.count(p) > 0; };
    }
    std::function<std::vector<std::string>(const std::string&)> list() const {
        return [this](const std::string& p) {
            ++listings;
            std::vector<std::string> names;
            const std::string prefix = p + "/";
            for (const auto& d : dirs)
                if (d.size() > prefix.size() && d.compare(0, prefix.size(), prefix) == 0 &&
                    d.find('/', prefix.size()) == std::string::npos)
                    names.push_back(d.substr(prefix.size()));
            return names;
        };
    }
};

const auto any_dir = [](const std::string&) { return true; };
const auto no_listing = [](const std::string& p) -> std::vector<std::string> {
    FAIL("list_subdirs must not be called for a fully known path, called on " << p);
    return {};
};

// The dev machine (Debian 12, no systemd, kernel 6.18): v1 controllers one per mount plus an empty cgroup2.
const std::string kHybridMountinfo =
    "22 27 0:21 / /proc rw,relatime - proc proc rw\n"
    "23 27 0:22 / /sys rw,relatime - sysfs sysfs rw\n"
    "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
    "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

// The same machine seen from a process moved to <ctrl>/x/a/b (memory: /process_api/<h>/x/a/b) and unshare -C.
const std::string kHybridInCgroupnsMountinfo =
    "23 27 0:22 / /sys rw,relatime - sysfs sysfs rw\n"
    "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 /../../.. /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "35 31 0:32 /../../../../.. /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "40 31 0:37 /../../.. /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 /../../.. /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

// A systemd v1 host (Ubuntu 18.04 / CentOS 7 style), controllers co-mounted, no cgroup2.
const std::string kV1Mountinfo =
    "18 24 0:17 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
    "24 0 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro\n"
    "25 18 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n"
    "27 25 0:24 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup "
    "rw,xattr,release_agent=/lib/systemd/systemd-cgroups-agent,name=systemd\n"
    "30 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,cpu,cpuacct\n"
    "31 25 0:28 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,memory\n"
    "32 25 0:29 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup "
    "rw,net_cls,net_prio\n"
    "33 25 0:30 / /sys/fs/cgroup/blkio rw,nosuid,nodev,noexec,relatime shared:17 - cgroup cgroup rw,blkio\n"
    "34 25 0:31 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:18 - cgroup cgroup rw,pids\n"
    "35 25 0:32 / /sys/fs/cgroup/devices rw,nosuid,nodev,noexec,relatime shared:19 - cgroup cgroup rw,devices\n"
    "36 25 0:33 / /sys/fs/cgroup/freezer rw,nosuid,nodev,noexec,relatime shared:20 - cgroup cgroup rw,freezer\n"
    "37 25 0:34 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:21 - cgroup cgroup "
    "rw,cpuset,clone_children\n"
    "38 25 0:35 / /sys/fs/cgroup/hugetlb rw,nosuid,nodev,noexec,relatime shared:22 - cgroup cgroup rw,hugetlb\n"
    "39 25 0:36 / /sys/fs/cgroup/perf_event rw,nosuid,nodev,noexec,relatime shared:23 - cgroup cgroup rw,perf_event\n";

// A pure v2 systemd host (Ubuntu 22.04 style).
const std::string kV2Mountinfo =
    "24 30 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
    "25 30 0:23 / /proc rw,nosuid,nodev,noexec,relatime shared:13 - proc proc rw\n"
    "30 1 252:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
    "35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n";

// A Litmus helper pod on a v2 node: private cgroupns rooted 4 levels deep
// (kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod<uid>.slice/cri-containerd-<id>.scope),
// the runtime's own /sys and cgroup2 mount (root "/"), then the host's /sys bind-mounted over it,
// whose cgroup2 submount shows the host root relative to the pod's cgroupns: "/../../../..".
const std::string kPodMountinfo =
    "1500 1400 0:150 / / rw,relatime master:1 - overlay overlay rw,lowerdir=/var/lib/containerd/l1,upperdir=/u,workdir=/w\n"
    "1501 1500 0:155 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n"
    "1510 1500 0:160 / /sys ro,nosuid,nodev,noexec,relatime - sysfs sysfs ro\n"
    "1511 1510 0:30 / /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup rw,nsdelegate,memory_recursiveprot\n"
    "1520 1510 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
    "1521 1520 0:30 /../../../.. /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n"
    "1530 1500 0:170 / /run/containerd/containerd.sock rw - tmpfs tmpfs rw\n";

// The pod's own cgroup2 mount only (no host /sys): what a container sees by default.
const std::string kPodOwnMountOnly =
    "1500 1400 0:150 / / rw,relatime master:1 - overlay overlay rw\n"
    "1510 1500 0:160 / /sys ro,nosuid,nodev,noexec,relatime - sysfs sysfs ro\n"
    "1511 1510 0:30 / /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup rw,nsdelegate\n";

const std::string kK8sV2Target =
    "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod9493223b_520e_4a97_a45f_359dcf967006.slice/"
    "cri-containerd-25d057a4c6c9555f2a0eb106e8896968c28f1c44aca4754174851aca7f89ad26.scope\n";

} // namespace

TEST_CASE("parse_proc_cgroup reads every recorded /proc/PID/cgroup fixture", "[cgroup]") {
    int files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(FIXTURES_DIR)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind("cgroup-", 0) != 0 || entry.path().extension() != ".txt") continue;
        ++files;
        INFO(name);
        const std::string text = read_fixture(name);
        const auto lines = parse_proc_cgroup(text);
        const auto expected = std::count(text.begin(), text.end(), '\n');
        CHECK(static_cast<long>(lines.size()) == expected);
        for (const auto& line : lines) {
            CHECK(line.path.front() == '/');
            if (line.hierarchy == 0) CHECK(line.controllers.empty());
            else CHECK_FALSE(line.controllers.empty());
            for (const auto& c : line.controllers) CHECK(c.find(',') == std::string::npos);
        }
    }
    CHECK(files >= 18);
}

TEST_CASE("parse_proc_cgroup keeps the fields of v1, hybrid and v2 lines", "[cgroup]") {
    SECTION("v1 systemd CRI-O: co-mounted controllers are split, name=systemd kept, rdma at the root") {
        auto lines = parse_proc_cgroup(read_fixture("cgroup-v1-systemd-crio.txt"));
        REQUIRE(lines.size() == 12);
        CHECK(lines[0].hierarchy == 12);
        CHECK(lines[0].controllers == std::vector<std::string>{"devices"});
        CHECK(lines[4].controllers == std::vector<std::string>{"cpu", "cpuacct"});
        CHECK(lines[6].controllers == std::vector<std::string>{"rdma"});
        CHECK(lines[6].path == "/");
        CHECK(lines[11].controllers == std::vector<std::string>{"name=systemd"});
        CHECK(lines[11].path ==
              "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod8ca306fa_3c03_47fa_97dd_19979c345572.slice/"
              "crio-d6d725b909f37c3e232aadfbafa950a58bfe7baa579ba8c47a12be88bb921607.scope");
    }
    SECTION("containerd's slice:cri-containerd:<id> form keeps the colons of the path") {
        auto lines = parse_proc_cgroup(read_fixture("cgroup-v1-containerd-systemd-colon-format.txt"));
        REQUIRE(lines.size() == 11);
        CHECK(lines[0].controllers == std::vector<std::string>{"pids"});
        CHECK(lines[0].path ==
              "/system.slice/containerd.service/kubepods-besteffort-pod2105e389_7471_476e_a50f_6074cef29bbd.slice:"
              "cri-containerd:d3d8ccf5cca91931c6285c1d7472c413dd5a7700fddc0aa9f89a9ac7008b003e");
    }
    SECTION("docker cgroupfs on the hybrid machine: v1 lines and a 0:: line") {
        auto lines = parse_proc_cgroup(read_fixture("cgroup-v1-docker-cgroupfs.txt"));
        REQUIRE(lines.size() == 10);
        CHECK(lines.back().hierarchy == 0);
        CHECK(lines.back().path == "/docker/ec3b60d7ed74ae940a5f11f178efc3de7826fb33040a2ee96006fe7fbf178467");
    }
    SECTION("a path seen from another cgroup namespace keeps its /..") {
        auto lines = parse_proc_cgroup(read_fixture("cgroup-v2-docker-systemd-k8s-seen-from-other-cgroupns.txt"));
        REQUIRE(lines.size() == 1);
        CHECK(lines[0].path.rfind("/../../kubepods-besteffort-podfd698699", 0) == 0);
    }
    SECTION("malformed lines name the line") {
        CHECK_THROWS_WITH(parse_proc_cgroup("garbage\n"), Catch::Contains("\"garbage\""));
        CHECK_THROWS_WITH(parse_proc_cgroup("x:cpu:/a\n"), Catch::Contains("numeric hierarchy ID"));
        CHECK_THROWS_WITH(parse_proc_cgroup("3:cpu:relative\n"), Catch::Contains("absolute path"));
        CHECK(parse_proc_cgroup("").empty());
    }
}

TEST_CASE("parse_mountinfo_cgroups finds cgroup and cgroup2 mounts", "[cgroup]") {
    SECTION("hybrid dev machine") {
        auto mounts = parse_mountinfo_cgroups(kHybridMountinfo);
        REQUIRE(mounts.size() == 10);
        CHECK(mounts[0].mount_point == "/sys/fs/cgroup/cpu");
        CHECK(mounts[0].root == "/");
        CHECK_FALSE(mounts[0].v2);
        CHECK(mounts[0].controllers == std::vector<std::string>{"cpu"});
        CHECK(mounts[8].controllers == std::vector<std::string>{"name=systemd"});
        CHECK(mounts[9].v2);
        CHECK(mounts[9].mount_point == "/sys/fs/cgroup/unified");
        CHECK(mounts[9].controllers.empty());
    }
    SECTION("v1 host: options that are not controllers are dropped") {
        auto mounts = parse_mountinfo_cgroups(kV1Mountinfo);
        REQUIRE(mounts.size() == 11);
        CHECK(mounts[0].controllers == std::vector<std::string>{"name=systemd"});
        CHECK(mounts[1].mount_point == "/sys/fs/cgroup/cpu,cpuacct");
        CHECK(mounts[1].controllers == std::vector<std::string>{"cpu", "cpuacct"});
        CHECK(mounts[2].controllers == std::vector<std::string>{"memory"});
        CHECK(mounts[8].controllers == std::vector<std::string>{"cpuset"});
        for (const auto& m : mounts) CHECK_FALSE(m.v2);
    }
    SECTION("pure v2 host") {
        auto mounts = parse_mountinfo_cgroups(kV2Mountinfo);
        REQUIRE(mounts.size() == 1);
        CHECK(mounts[0].v2);
        CHECK(mounts[0].mount_point == "/sys/fs/cgroup");
        CHECK(mounts[0].controllers.empty());
    }
    SECTION("pod with a private cgroupns: the host's /sys hides the runtime's cgroup2 mount") {
        auto mounts = parse_mountinfo_cgroups(kPodMountinfo);
        REQUIRE(mounts.size() == 1);
        CHECK(mounts[0].root == "/../../../..");
        CHECK(mounts[0].mount_point == "/sys/fs/cgroup");
    }
    SECTION("a mount stacked on the same mount point hides the one below") {
        const std::string text = "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"
                                 "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
                                 "42 41 0:38 /../.. /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";
        auto mounts = parse_mountinfo_cgroups(text);
        REQUIRE(mounts.size() == 1);
        CHECK(mounts[0].root == "/../..");
    }
    SECTION("octal escapes and several optional fields") {
        const std::string text =
            "50 31 0:40 /a\\040b /mnt/my\\040cgroups rw,relatime shared:9 master:3 propagate_from:2 - cgroup none rw,memory\n";
        auto mounts = parse_mountinfo_cgroups(text);
        REQUIRE(mounts.size() == 1);
        CHECK(mounts[0].mount_point == "/mnt/my cgroups");
        CHECK(mounts[0].root == "/a b");
        CHECK(mounts[0].controllers == std::vector<std::string>{"memory"});
    }
    SECTION("no cgroup mounts") {
        CHECK(parse_mountinfo_cgroups("22 27 0:21 / /proc rw,relatime - proc proc rw\n").empty());
    }
}

TEST_CASE("detect_layout tells v1, hybrid and v2 apart", "[cgroup]") {
    CHECK(detect_layout(parse_mountinfo_cgroups(kHybridMountinfo)) == CgroupLayout::Hybrid);
    CHECK(detect_layout(parse_mountinfo_cgroups(kV1Mountinfo)) == CgroupLayout::V1);
    CHECK(detect_layout(parse_mountinfo_cgroups(kV2Mountinfo)) == CgroupLayout::V2);
    CHECK(detect_layout(parse_mountinfo_cgroups(kPodMountinfo)) == CgroupLayout::V2);
    // A v2 host that keeps a name=systemd v1 mount for old containers is still v2.
    CHECK(detect_layout(parse_mountinfo_cgroups(
              kV2Mountinfo + "60 24 0:50 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd\n")) ==
          CgroupLayout::V2);
    CHECK_THROWS_WITH(detect_layout({}), Catch::Contains("no cgroup or cgroup2 mount"));
    CHECK(std::string(layout_name(CgroupLayout::Hybrid)) == "hybrid");
    CHECK(std::string(layout_name(CgroupLayout::V1)) == "v1");
    CHECK(std::string(layout_name(CgroupLayout::V2)) == "v2");
}

TEST_CASE("resolve_cgroups on the host's cgroup namespace", "[cgroup]") {
    SECTION("hybrid machine: one dir per v1 hierarchy plus the unified dir") {
        auto cg = resolve_cgroups(read_fixture("cgroup-hybrid-generated-cgroupns-same-pid-from-host.txt"),
                                  kHybridMountinfo, any_dir, no_listing);
        CHECK(cg.layout == CgroupLayout::Hybrid);
        CHECK(cg.v1_dirs.size() == 9);
        CHECK(cg.v1_controller_dirs.at("memory") == "/sys/fs/cgroup/memory/process_api/fce7987b657997f88dffbe136084f925");
        CHECK(cg.v1_controller_dirs.at("cpu") == "/sys/fs/cgroup/cpu");
        CHECK(cg.v1_controller_dirs.at("name=systemd") == "/sys/fs/cgroup/systemd");
        CHECK(cg.v2_dir ==
              "/sys/fs/cgroup/unified/kubepods.slice/kubepods-burstable.slice/"
              "kubepods-burstable-poddcfd42b2_6f1f_46ac_aac3_042ad7e5ba89.slice/"
              "cri-containerd-0ff831466c23031dd79c3976e0d481f730b85525cd4367cb7e7359fe853600a1.scope");
        CHECK(cg.warnings.empty());
        CHECK(cg.unmounted.empty());
    }
    SECTION("containerd CRI container on the hybrid machine, recorded") {
        auto cg = resolve_cgroups(read_fixture("cgroup-v1-containerd-cri.txt"), kHybridMountinfo, any_dir, no_listing);
        const std::string tail =
            "/kubepods/besteffort/podffd1528e-90b9-40ad-97e0-2fb22763e3aa/c78cd7b8530e9b03363c7ba5b0d1bca5da06575095d6af4d5c85ea8c8eec7b01";
        const std::vector<std::string> expected{
            "/sys/fs/cgroup/systemd" + tail, "/sys/fs/cgroup/pids" + tail,    "/sys/fs/cgroup/blkio" + tail,
            "/sys/fs/cgroup/freezer" + tail, "/sys/fs/cgroup/devices" + tail, "/sys/fs/cgroup/memory" + tail,
            "/sys/fs/cgroup/cpuset" + tail,  "/sys/fs/cgroup/cpuacct" + tail, "/sys/fs/cgroup/cpu" + tail};
        CHECK(cg.v1_dirs == expected);
        CHECK(cg.v2_dir == "/sys/fs/cgroup/unified" + tail);
    }
    SECTION("v1 systemd containerd on a v1 host: co-mounted cpu,cpuacct, hierarchies not mounted are listed") {
        auto cg = resolve_cgroups(read_fixture("cgroup-v1-systemd-containerd.txt"), kV1Mountinfo, any_dir, no_listing);
        const std::string tail =
            "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-poddd1bf9d1_241d_47f5_8e25_12de83135812.slice/"
            "cri-containerd-f45298cd514d1930c4fe3afc4412e59547f7e3148fddd22ca33cefce046eb830.scope";
        CHECK(cg.layout == CgroupLayout::V1);
        CHECK(cg.v1_dirs.size() == 11);
        CHECK(cg.v1_controller_dirs.at("cpu") == "/sys/fs/cgroup/cpu,cpuacct" + tail);
        CHECK(cg.v1_controller_dirs.at("cpuacct") == "/sys/fs/cgroup/cpu,cpuacct" + tail);
        CHECK(cg.v1_controller_dirs.at("net_prio") == "/sys/fs/cgroup/net_cls,net_prio" + tail);
        CHECK(cg.v1_controller_dirs.at("name=systemd") == "/sys/fs/cgroup/systemd" + tail);
        CHECK(cg.v2_dir.empty()); // the 0:: line exists but there is no cgroup2 mount
        CHECK(cg.unmounted.empty());
    }
    SECTION("CRI-O v1: rdma is not mounted on this host and is skipped") {
        auto cg = resolve_cgroups(read_fixture("cgroup-v1-systemd-crio.txt"), kV1Mountinfo, any_dir, no_listing);
        CHECK(cg.unmounted == std::vector<std::string>{"rdma"});
        CHECK(cg.v1_dirs.size() == 11);
    }
    SECTION("docker k8s v1 with reversed controller order net_prio,net_cls") {
        auto cg = resolve_cgroups(read_fixture("cgroup-v1-systemd-docker.txt"), kV1Mountinfo, any_dir, no_listing);
        CHECK(cg.v1_controller_dirs.at("net_cls").rfind("/sys/fs/cgroup/net_cls,net_prio/kubepods.slice/", 0) == 0);
        CHECK(cg.v1_controller_dirs.at("cpuacct").rfind("/sys/fs/cgroup/cpu,cpuacct/kubepods.slice/", 0) == 0);
    }
    SECTION("colon-format path is used verbatim") {
        auto cg = resolve_cgroups(read_fixture("cgroup-v1-containerd-systemd-colon-format.txt"), kV1Mountinfo,
                                  any_dir, no_listing);
        CHECK(cg.v1_controller_dirs.at("memory") ==
              "/sys/fs/cgroup/memory/system.slice/containerd.service/"
              "kubepods-besteffort-pod2105e389_7471_476e_a50f_6074cef29bbd.slice:cri-containerd:"
              "d3d8ccf5cca91931c6285c1d7472c413dd5a7700fddc0aa9f89a9ac7008b003e");
    }
    SECTION("every v2 fixture on a pure v2 host") {
        for (const char* name : {"cgroup-v2-containerd-systemd.txt", "cgroup-v2-crio-systemd.txt",
                                 "cgroup-v2-crio-systemd-selfprobe.txt", "cgroup-v2-cgroupfs-containerd.txt"}) {
            INFO(name);
            const std::string text = read_fixture(name);
            auto cg = resolve_cgroups(text, kV2Mountinfo, any_dir, no_listing);
            CHECK(cg.layout == CgroupLayout::V2);
            CHECK(cg.v1_dirs.empty());
            CHECK(cg.v2_dir == "/sys/fs/cgroup" + text.substr(3, text.size() - 4));
        }
    }
    SECTION("a dir that does not exist is an error naming it") {
        auto only_root = [](const std::string& p) { return p == "/sys/fs/cgroup"; };
        CHECK_THROWS_WITH(resolve_cgroups(kK8sV2Target, kV2Mountinfo, only_root, no_listing),
                          Catch::Contains("/sys/fs/cgroup/kubepods.slice/kubepods-besteffort.slice") &&
                              Catch::Contains("does not exist"));
    }
    SECTION("v2 host: the 0:: line is required") {
        CHECK_THROWS_WITH(resolve_cgroups("1:name=systemd:/x\n", kV2Mountinfo, any_dir, no_listing),
                          Catch::Contains("no 0:: line"));
    }
    SECTION("hybrid host: an unresolvable v2 path is a warning, not an error") {
        auto exists = [](const std::string& p) { return p.rfind("/sys/fs/cgroup/unified", 0) != 0; };
        auto cg = resolve_cgroups(read_fixture("cgroup-v1-docker-cgroupfs.txt"), kHybridMountinfo, exists, no_listing);
        CHECK(cg.v1_dirs.size() == 9);
        CHECK(cg.v2_dir.empty());
        REQUIRE(cg.warnings.size() == 1);
        CHECK_THAT(cg.warnings[0], Catch::Contains("0::/docker/ec3b60d7") && Catch::Contains("does not exist"));
    }
    SECTION("v1 host: an unresolvable v1 hierarchy is an error") {
        auto exists = [](const std::string& p) { return p.rfind("/sys/fs/cgroup/memory", 0) != 0; };
        CHECK_THROWS_WITH(resolve_cgroups(read_fixture("cgroup-v1-cgroupfs-containerd.txt"), kV1Mountinfo, exists, no_listing),
                          Catch::Contains("could not find valid cgroup for memory:/kubepods/besteffort/"));
    }
    SECTION("nothing mounted that the target is in") {
        CHECK_THROWS_WITH(resolve_cgroups("5:rdma:/x\n", kV1Mountinfo, any_dir, no_listing),
                          Catch::Contains("could not find valid cgroup") && Catch::Contains("rdma"));
    }
    SECTION("a v1 mount of a sub-cgroup (container without cgroupns): paths below it only") {
        const std::string mi = "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"
                               "35 31 0:32 /docker/abc /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory\n";
        auto cg = resolve_cgroups("4:memory:/docker/abc/sub\n", mi, any_dir, no_listing);
        CHECK(cg.v1_dirs == std::vector<std::string>{"/sys/fs/cgroup/memory/sub"});
        CHECK_THROWS_WITH(resolve_cgroups("4:memory:/kubepods/x\n", mi, any_dir, no_listing),
                          Catch::Contains("lies outside the part of the hierarchy mounted at /sys/fs/cgroup/memory"));
    }
}

TEST_CASE("resolve_cgroups from inside a private cgroup namespace", "[cgroup]") {
    const std::string target_k8s = read_fixture("cgroup-v2-docker-systemd-k8s-seen-from-other-cgroupns.txt");
    const std::string rest =
        "kubepods-besteffort-podfd698699_eabf_4c23_92ef_cf0bbdb78261.slice/"
        "docker-2cc65c162ca1388b6b8d5ccfb701d22fc96675ccf8b2f1590c490c2c4039547f.scope";
    const std::string self_scope =
        "/sys/fs/cgroup/kubepods.slice/kubepods-besteffort.slice/"
        "kubepods-besteffort-pod11111111_2222_3333_4444_555555555555.slice/cri-containerd-aaaa.scope";

    SECTION("fewer /.. than the depth: the unknown ancestors are found by search") {
        FakeTree tree{"/sys/fs/cgroup/kubepods.slice/kubepods-besteffort.slice/" + rest,
                      self_scope,
                      "/sys/fs/cgroup/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podx.slice/c.scope",
                      "/sys/fs/cgroup/system.slice/containerd.service",
                      "/sys/fs/cgroup/system.slice/kubelet.service",
                      "/sys/fs/cgroup/user.slice/user-0.slice/session-1.scope",
                      "/sys/fs/cgroup/init.scope"};
        auto cg = resolve_cgroups(target_k8s, kPodMountinfo, tree.exists(), tree.list());
        CHECK(cg.layout == CgroupLayout::V2);
        CHECK(cg.v2_dir == "/sys/fs/cgroup/kubepods.slice/kubepods-besteffort.slice/" + rest);
        CHECK(tree.listings > 0);
    }
    SECTION("the same name below two candidates is ambiguous, and the error lists both") {
        FakeTree tree{"/sys/fs/cgroup/kubepods.slice/kubepods-besteffort.slice/" + rest,
                      "/sys/fs/cgroup/kubepods.slice/kubepods-burstable.slice/" + rest, self_scope};
        CHECK_THROWS_WITH(resolve_cgroups(target_k8s, kPodMountinfo, tree.exists(), tree.list()),
                          Catch::Contains("ambiguous") && Catch::Contains("2 directories match") &&
                              Catch::Contains("/sys/fs/cgroup/kubepods.slice/kubepods-besteffort.slice/" + rest) &&
                              Catch::Contains("/sys/fs/cgroup/kubepods.slice/kubepods-burstable.slice/" + rest) &&
                              Catch::Contains("4 levels below the root of /sys/fs/cgroup"));
    }
    SECTION("no candidate is an error that says where it looked") {
        FakeTree tree{self_scope, "/sys/fs/cgroup/system.slice/kubelet.service"};
        CHECK_THROWS_WITH(resolve_cgroups(target_k8s, kPodMountinfo, tree.exists(), tree.list()),
                          Catch::Contains("no directory 2 levels below /sys/fs/cgroup has " + rest));
    }
    SECTION("as many /.. as the depth: the path is fully known, no search") {
        const std::string mi = "35 24 0:30 /../.. /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
        auto cg = resolve_cgroups(target_k8s, mi, any_dir, no_listing);
        CHECK(cg.v2_dir == "/sys/fs/cgroup/" + rest);
    }
    SECTION("plain docker: one level up, found under system.slice") {
        FakeTree tree{"/sys/fs/cgroup/system.slice/docker-1f1d6e2d4940ddac13abd421a2617992bf89f0e0f9a902ed58278c5f843e9ae7.scope",
                      "/sys/fs/cgroup/system.slice/docker-ffff.scope", "/sys/fs/cgroup/user.slice/user-0.slice"};
        const std::string mi = "35 24 0:30 /../.. /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
        auto cg = resolve_cgroups(read_fixture("cgroup-v2-docker-systemd-seen-from-other-cgroupns.txt"), mi,
                                  tree.exists(), tree.list());
        CHECK(cg.v2_dir ==
              "/sys/fs/cgroup/system.slice/docker-1f1d6e2d4940ddac13abd421a2617992bf89f0e0f9a902ed58278c5f843e9ae7.scope");
    }
    SECTION("the host's init.scope seen from a container: fully known") {
        const std::string mi = "35 24 0:30 /../.. /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
        auto cg = resolve_cgroups(read_fixture("cgroup-v2-host-pid1-seen-from-container-cgroupns.txt"), mi, any_dir,
                                  no_listing);
        CHECK(cg.v2_dir == "/sys/fs/cgroup/init.scope");
    }
    SECTION("the container's own cgroup2 mount cannot reach outside its namespace") {
        CHECK_THROWS_WITH(resolve_cgroups(target_k8s, kPodOwnMountOnly, any_dir, no_listing),
                          Catch::Contains("lies outside the part of the hierarchy mounted at /sys/fs/cgroup (mount root /)"));
    }
    SECTION("hybrid, recorded: pid 1 read from inside the namespace resolves to the hierarchy roots") {
        // The recording's namespace: memory 2 levels deep (/process_api/<h>), unified 4 levels deep.
        const std::string mi =
            "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"
            "32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n"
            "35 31 0:32 /../.. /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
            "41 31 0:38 /../../../.. /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";
        auto cg = resolve_cgroups(read_fixture("cgroup-hybrid-generated-host-pid1-from-inside-cgroupns.txt"), mi,
                                  any_dir, no_listing);
        CHECK(cg.v1_controller_dirs.at("memory") == "/sys/fs/cgroup/memory");
        CHECK(cg.v1_controller_dirs.at("cpu") == "/sys/fs/cgroup/cpu");
        CHECK(cg.v2_dir == "/sys/fs/cgroup/unified");
        CHECK(cg.unmounted.size() == 7);

        SECTION("and the namespace's own process ('/' everywhere) is found by search") {
            FakeTree tree{"/sys/fs/cgroup/cpu",
                          "/sys/fs/cgroup/memory/process_api/fce7987b657997f88dffbe136084f925",
                          "/sys/fs/cgroup/unified/kubepods.slice/kubepods-burstable.slice/"
                          "kubepods-burstable-poddcfd42b2_6f1f_46ac_aac3_042ad7e5ba89.slice/"
                          "cri-containerd-0ff831466c23031dd79c3976e0d481f730b85525cd4367cb7e7359fe853600a1.scope"};
            auto own = resolve_cgroups(read_fixture("cgroup-hybrid-generated-cgroupns-inside.txt"), mi, tree.exists(),
                                       tree.list());
            CHECK(own.v1_controller_dirs.at("memory") ==
                  "/sys/fs/cgroup/memory/process_api/fce7987b657997f88dffbe136084f925");
            CHECK(own.v2_dir.rfind("/sys/fs/cgroup/unified/kubepods.slice/kubepods-burstable.slice/", 0) == 0);
            CHECK(own.v2_dir.size() > 100);

            tree.add("/sys/fs/cgroup/memory/process_api/0000");
            CHECK_THROWS_WITH(resolve_cgroups(read_fixture("cgroup-hybrid-generated-cgroupns-inside.txt"), mi,
                                              tree.exists(), tree.list()),
                              Catch::Contains("memory:/") && Catch::Contains("ambiguous"));
        }
    }
    SECTION("hybrid machine after unshare -C in <ctrl>/x/a/b: a sibling subtree of x, search per hierarchy") {
        // Target in <ctrl>/x/kubepods/...; the memory hierarchy starts below /process_api/<h>.
        const std::string target = "9:name=systemd:/../../kubepods/besteffort/podu/cid\n"
                                   "4:memory:/../../kubepods/besteffort/podu/cid\n"
                                   "2:cpuacct:/x/kubepods/besteffort/podu/cid\n"
                                   "1:cpu:/../../kubepods/besteffort/podu/cid\n"
                                   "0::/../../kubepods/besteffort/podu/cid\n";
        FakeTree tree{"/sys/fs/cgroup/cpu/x/kubepods/besteffort/podu/cid",
                      "/sys/fs/cgroup/cpu/x/a/b",
                      "/sys/fs/cgroup/cpu/other",
                      "/sys/fs/cgroup/cpuacct/x/kubepods/besteffort/podu/cid",
                      "/sys/fs/cgroup/memory/process_api/h1/x/kubepods/besteffort/podu/cid",
                      "/sys/fs/cgroup/memory/process_api/h1/x/a/b",
                      "/sys/fs/cgroup/memory/process_api/h2",
                      "/sys/fs/cgroup/memory/process_api/h3/y",
                      "/sys/fs/cgroup/systemd/x/kubepods/besteffort/podu/cid",
                      "/sys/fs/cgroup/unified/x/kubepods/besteffort/podu/cid",
                      "/sys/fs/cgroup/unified/x/a/b"};
        auto cg = resolve_cgroups(target, kHybridInCgroupnsMountinfo, tree.exists(), tree.list());
        CHECK(cg.layout == CgroupLayout::Hybrid);
        CHECK(cg.v1_controller_dirs.at("cpu") == "/sys/fs/cgroup/cpu/x/kubepods/besteffort/podu/cid");
        CHECK(cg.v1_controller_dirs.at("cpuacct") == "/sys/fs/cgroup/cpuacct/x/kubepods/besteffort/podu/cid");
        CHECK(cg.v1_controller_dirs.at("memory") == "/sys/fs/cgroup/memory/process_api/h1/x/kubepods/besteffort/podu/cid");
        CHECK(cg.v1_controller_dirs.at("name=systemd") == "/sys/fs/cgroup/systemd/x/kubepods/besteffort/podu/cid");
        CHECK(cg.v2_dir == "/sys/fs/cgroup/unified/x/kubepods/besteffort/podu/cid");
    }
    SECTION("paths with .. after a name are rejected") {
        const std::string mi = "35 24 0:30 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
        CHECK_THROWS_WITH(resolve_cgroups("0::/a/../b\n", mi, any_dir, no_listing),
                          Catch::Contains("not of the form"));
    }
}

TEST_CASE("counter file parsers", "[cgroup]") {
    SECTION("blkio.throttle.io_service_bytes as kernel 6.18 prints it, two devices") {
        const std::string text = "254:0 Read 67108864\n254:0 Write 134234112\n254:0 Sync 201342976\n"
                                 "254:0 Async 0\n254:0 Discard 0\n254:0 Total 201342976\n"
                                 "8:16 Read 4096\n8:16 Write 0\n8:16 Total 4096\nTotal 201347072\n";
        CHECK(parse_blkio_service_bytes(text, "Read") == 67108864u + 4096u);
        CHECK(parse_blkio_service_bytes(text, "Write") == 134234112u);
        CHECK(parse_blkio_service_bytes("Total 0\n", "Read") == 0u);
        CHECK(parse_blkio_service_bytes("", "Write") == 0u);
        CHECK_FALSE(parse_blkio_service_bytes("254:0 Read lots\n", "Read"));
        CHECK_FALSE(parse_blkio_service_bytes("what is this\n", "Read"));
    }
    SECTION("v2 io.stat sums devices") {
        const std::string text = "254:0 rbytes=1048576 wbytes=2097152 rios=16 wios=32 dbytes=0 dios=0\n"
                                 "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n";
        CHECK(parse_io_stat(text, "rbytes") == 1048576u + 4096u);
        CHECK(parse_io_stat(text, "wbytes") == 2097152u + 8192u);
        CHECK(parse_io_stat("", "wbytes") == 0u);
        CHECK_FALSE(parse_io_stat("254:0 rbytes=x\n", "rbytes"));
    }
    SECTION("cpu.stat") {
        const std::string text = "usage_usec 49663\nuser_usec 0\nsystem_usec 49663\nnice_usec 0\n"
                                 "nr_periods 0\nnr_throttled 0\nthrottled_usec 0\n";
        CHECK(parse_keyed_stat(text, "usage_usec") == 49663u);
        CHECK(parse_keyed_stat(text, "system_usec") == 49663u);
        CHECK_FALSE(parse_keyed_stat(text, "usage"));
        CHECK_FALSE(parse_keyed_stat("usage_usec -1\n", "usage_usec"));
    }
    SECTION("single values") {
        CHECK(parse_single_value("49521275\n") == 49521275u);
        CHECK(parse_single_value("18446744073709551615\n") == 18446744073709551615u);
        CHECK_FALSE(parse_single_value("max\n"));
        CHECK_FALSE(parse_single_value(""));
        CHECK_FALSE(parse_single_value("12 34\n"));
    }
}

TEST_CASE("read_counters and attach_to_cgroups on a fake directory", "[cgroup]") {
    namespace fs = std::filesystem;
    const fs::path base = fs::temp_directory_path() / ("cgroup-unit-" + std::to_string(::getpid()));
    fs::create_directories(base / "cpuacct");
    fs::create_directories(base / "memory");
    fs::create_directories(base / "blkio");
    fs::create_directories(base / "unified");
    auto put = [](const fs::path& p, const std::string& text) { std::ofstream(p) << text; };
    put(base / "cpuacct/cpuacct.usage", "5000\n");
    put(base / "memory/memory.usage_in_bytes", "1048576\n");
    put(base / "memory/memory.max_usage_in_bytes", "2097152\n");
    put(base / "blkio/blkio.throttle.io_service_bytes", "254:0 Read 10\n254:0 Write 20\nTotal 30\n");
    put(base / "unified/cpu.stat", "usage_usec 7\n");
    put(base / "unified/io.stat", "254:0 rbytes=1 wbytes=2 rios=1 wios=1 dbytes=0 dios=0\n");
    put(base / "unified/memory.current", "3\n");
    put(base / "cpuacct/cgroup.procs", "");
    put(base / "memory/cgroup.procs", "");
    put(base / "unified/cgroup.procs", "");

    TargetCgroups cg;
    cg.layout = CgroupLayout::Hybrid;
    cg.v1_controller_dirs = {{"cpuacct", (base / "cpuacct").string()},
                             {"memory", (base / "memory").string()},
                             {"blkio", (base / "blkio").string()}};
    cg.v2_dir = (base / "unified").string();

    SECTION("v1 files win, the flat blkio file is used when _recursive is missing") {
        auto c = read_counters(cg);
        CHECK(c.cpu_usage_ns == 5000u);
        CHECK(c.memory_bytes == 1048576u);
        CHECK(c.memory_peak_bytes == 2097152u);
        CHECK(c.io_read_bytes == 10u);
        CHECK(c.io_write_bytes == 20u);
        put(base / "blkio/blkio.throttle.io_service_bytes_recursive", "254:0 Read 11\n254:0 Write 21\nTotal 32\n");
        CHECK(read_counters(cg).io_write_bytes == 21u);
    }
    SECTION("v2 fills what v1 lacks; a file nobody has stays nullopt") {
        cg.v1_controller_dirs.clear();
        auto c = read_counters(cg);
        CHECK(c.cpu_usage_ns == 7000u);
        CHECK(c.memory_bytes == 3u);
        CHECK_FALSE(c.memory_peak_bytes);
        CHECK(c.io_read_bytes == 1u);
        CHECK(c.io_write_bytes == 2u);
    }
    SECTION("attach writes the pid to cgroup.procs of each dir; errors name the file and errno") {
        cg.v1_dirs = {(base / "cpuacct").string(), (base / "memory").string()};
        attach_to_cgroups(cg, 4242);
        std::ifstream in(base / "memory/cgroup.procs");
        std::string pid;
        in >> pid;
        CHECK(pid == "4242");
        cg.v1_dirs.push_back((base / "missing").string());
        CHECK_THROWS_WITH(attach_to_cgroups(cg, 4242),
                          Catch::Contains("open " + (base / "missing/cgroup.procs").string()) &&
                              Catch::Contains("No such file or directory"));
    }
    SECTION("hybrid: a failing v2 write is only a warning; on v2 it is an error") {
        cg.v1_dirs = {(base / "cpuacct").string()};
        cg.v2_dir = (base / "nope").string();
        CHECK_NOTHROW(attach_to_cgroups(cg, 4242));
        cg.layout = CgroupLayout::V2;
        cg.v1_dirs.clear();
        CHECK_THROWS_WITH(attach_to_cgroups(cg, 4242), Catch::Contains((base / "nope/cgroup.procs").string()));
        cg.v2_dir.clear();
        CHECK_THROWS_WITH(attach_to_cgroups(cg, 4242), Catch::Contains("no cgroup2 directory"));
    }
    fs::remove_all(base);
}
