#include "nsexec_args.hpp"

#include <sched.h>

#include <algorithm>
#include <stdexcept>

namespace nsexec {

const char* ns_name(Ns ns) noexcept {
    switch (ns) {
    case Ns::Ipc: return "ipc";
    case Ns::Uts: return "uts";
    case Ns::Net: return "net";
    case Ns::Cgroup: return "cgroup";
    case Ns::Pid: return "pid";
    case Ns::Mnt: return "mnt";
    }
    return "?";
}

int ns_clone_flag(Ns ns) noexcept {
    switch (ns) {
    case Ns::Ipc: return CLONE_NEWIPC;
    case Ns::Uts: return CLONE_NEWUTS;
    case Ns::Net: return CLONE_NEWNET;
    case Ns::Cgroup: return CLONE_NEWCGROUP;
    case Ns::Pid: return CLONE_NEWPID;
    case Ns::Mnt: return CLONE_NEWNS;
    }
    return 0;
}

namespace {

struct NsOption {
    const char* short_name;
    const char* long_name;
    Ns ns;
};
constexpr NsOption kNsOptions[] = {
    {"-m", "--mnt", Ns::Mnt},    {"-c", "--cgroup", Ns::Cgroup}, {"-i", "--ipc", Ns::Ipc},
    {"-n", "--net", Ns::Net},    {"-p", "--pid", Ns::Pid},       {"-u", "--uts", Ns::Uts},
};

size_t join_rank(Ns ns) {
    return static_cast<size_t>(std::find(std::begin(kJoinOrder), std::end(kJoinOrder), ns) - std::begin(kJoinOrder));
}

} // namespace

Args parse_args(const std::vector<std::string>& argv) {
    Args args;
    size_t i = 0;
    // The value of an option: "-p PATH", "-pPATH", "--pid PATH" or "--pid=PATH".
    auto take_value = [&](const std::string& arg, const std::string& name) -> std::string {
        if (arg.size() > name.size()) {
            std::string rest = arg.substr(name.size());
            if (name.starts_with("--")) return rest.substr(1); // "--pid=PATH"
            return rest;                                        // "-pPATH"
        }
        if (i + 1 >= argv.size()) throw std::invalid_argument("option " + name + " needs a PATH");
        return argv[++i];
    };
    auto matches = [](const std::string& arg, const std::string& name) {
        if (arg == name) return true;
        if (name.starts_with("--")) return arg.starts_with(name + "=");
        return arg.starts_with(name) && arg.size() > name.size(); // "-pPATH"
    };

    for (; i < argv.size(); ++i) {
        const std::string& arg = argv[i];
        if (arg == "--") {
            ++i;
            break;
        }
        if (arg == "-h" || arg == "--help") {
            args.help = true;
            return args;
        }
        if (arg == "-l" || arg == "--local") {
            args.local = true;
            continue;
        }
        if (matches(arg, "--library-path")) {
            std::string value = take_value(arg, "--library-path");
            if (value.empty()) throw std::invalid_argument("option --library-path needs a PATH");
            args.library_path = value;
            continue;
        }
        const NsOption* found = nullptr;
        std::string used;
        for (const auto& opt : kNsOptions) {
            if (matches(arg, opt.long_name)) { found = &opt; used = opt.long_name; break; }
            if (matches(arg, opt.short_name)) { found = &opt; used = opt.short_name; break; }
        }
        if (found) {
            std::string value = take_value(arg, used);
            if (value.empty()) throw std::invalid_argument("option " + used + " needs a PATH");
            for (const auto& req : args.namespaces)
                if (req.ns == found->ns)
                    throw std::invalid_argument(std::string("the ") + ns_name(found->ns) +
                                                " namespace is given twice (" + req.path + ", " + value + ")");
            args.namespaces.push_back({found->ns, value});
            continue;
        }
        if (arg.size() > 1 && arg[0] == '-') throw std::invalid_argument("unknown option " + arg);
        break; // first word of the command
    }
    args.command.assign(argv.begin() + static_cast<std::ptrdiff_t>(std::min(i, argv.size())), argv.end());
    if (args.command.empty()) throw std::invalid_argument("no command given (nsexec [OPTIONS] -- CMD [ARG...])");
    std::sort(args.namespaces.begin(), args.namespaces.end(),
              [](const NsRequest& a, const NsRequest& b) { return join_rank(a.ns) < join_rank(b.ns); });
    return args;
}

std::string usage_text() {
    return R"(Usage: nsexec [OPTIONS] [--] CMD [ARG...]

Runs CMD inside the namespaces given, as the first process of that PID namespace's subtree
that reaps everything CMD leaves behind. Compatible with chaos-mesh's nsexec.

Options (PATH is a namespace file such as /proc/PID/ns/mnt):
  -m, --mnt PATH         join this mount namespace. Without --local, CMD is looked up and
                         loaded from the target's filesystem.
  -c, --cgroup PATH      join this cgroup namespace
  -i, --ipc PATH         join this IPC namespace
  -n, --net PATH         join this network namespace
  -p, --pid PATH         join this PID namespace (CMD runs as a process in it)
  -u, --uts PATH         join this UTS namespace
  -l, --local            find and load CMD and its libraries from the caller's filesystem, and
                         enter the mount namespace (-m) in the constructor of the preload library,
                         right after exec and before CMD's main: the target needs no copy of CMD,
                         no libc and no shell.
      --library-path PATH  the preload library for --local (default /usr/local/lib/libnsenter.so)
  -h, --help             show this text

Every namespace file is opened before any is joined; they are joined in the order
ipc, uts, net, cgroup, pid, mnt.

Exit status: CMD's exit status; 128+N if CMD died of signal N; 125 if nsexec itself failed
before CMD ran (bad option, a namespace that cannot be opened or joined, an unreadable library);
126 if CMD was found but could not be executed; 127 if CMD was not found.

Signals: SIGTERM, SIGINT and SIGHUP are forwarded to CMD's process group (and repeated every
50 ms, for processes that started after it); whatever is still running 500 ms later is killed
with SIGKILL, and every process CMD started is reaped before nsexec exits. When CMD's main
process exits first, the rest of its group is stopped the same way. If nsexec's parent dies,
nsexec behaves as if it got SIGTERM.
)";
}

} // namespace nsexec
