// runtime_probe — drives the runtime module for the end-to-end tests and the start-up budget:
//
//   runtime_probe --runtime containerd|docker|crio|crictl|scan [--socket S] [--namespace N]
//                 [--proc-root P] [--crictl PATH] [--chain] [--repeat N] ID
//
// Prints the pid and exits 0, or prints the error message on stderr and exits 1.
// --chain asks make_runtime (native backend + cgroup-scan fallback) instead of the one backend.
// --repeat N does N cold lookups (a new backend, hence a new connection, each time) and prints
// "lookup_ms median=… min=… max=…" and the thread count after the backends are gone on stderr.
#include "runtime.hpp"

#include <dirent.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

namespace {

int count_threads() {
    int n = 0;
    if (DIR* dir = ::opendir("/proc/self/task")) {
        while (const dirent* e = ::readdir(dir)) n += e->d_name[0] != '.';
        ::closedir(dir);
    }
    return n;
}

[[noreturn]] void usage(const std::string& why) {
    std::cerr << "runtime_probe: " << why
              << "\nusage: runtime_probe --runtime containerd|docker|crio|crictl|scan [--socket S] [--namespace N]"
                 " [--proc-root P] [--crictl PATH] [--chain] [--repeat N] ID\n";
    std::exit(2);
}

} // namespace

int main(int argc, char** argv) {
    std::string runtime, socket, ns = "k8s.io", proc_root = "/proc", crictl, id;
    bool chain = false;
    int repeat = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage(arg + " needs a value");
            return argv[++i];
        };
        if (arg == "--runtime") runtime = value();
        else if (arg == "--socket") socket = value();
        else if (arg == "--namespace") ns = value();
        else if (arg == "--proc-root") proc_root = value();
        else if (arg == "--crictl") crictl = value();
        else if (arg == "--chain") chain = true;
        else if (arg == "--repeat") repeat = std::atoi(value().c_str());
        else if (!arg.empty() && arg[0] == '-') usage("unknown option " + arg);
        else if (id.empty()) id = arg;
        else usage("more than one container id");
    }
    if (runtime.empty() || id.empty()) usage("--runtime and ID are required");

    const auto make = [&]() -> std::unique_ptr<stress::RuntimeBackend> {
        if (chain) {
            stress::RuntimeOptions options;
            options.runtime = runtime;
            options.socket_path = socket;
            options.containerd_namespace = ns;
            options.proc_root = proc_root;
            options.crictl_path = crictl;
            return stress::make_runtime(options);
        }
        const std::string sock = socket.empty() && runtime != "scan" && runtime != "crictl"
                                     ? stress::default_socket(runtime)
                                     : socket;
        if (runtime == "containerd") return stress::make_containerd_backend(sock, ns);
        if (runtime == "docker") return stress::make_docker_backend(sock);
        if (runtime == "crio") return stress::make_crio_backend(sock);
        if (runtime == "crictl") {
            const std::string path = crictl.empty() ? stress::find_crictl() : crictl;
            if (path.empty()) throw stress::Error(stress::ErrorCode::ContainerRuntimeError, "crictl: not found in PATH");
            return stress::make_crictl_backend(path, sock.empty() ? stress::default_socket("crio") : sock);
        }
        if (runtime == "scan") return stress::make_cgroup_scan_backend(proc_root);
        usage("unknown --runtime " + runtime);
    };

    try {
        if (repeat <= 0) {
            std::cout << make()->container_pid(id) << std::endl;
            return 0;
        }
        std::vector<double> ms;
        pid_t pid = 0;
        for (int i = 0; i < repeat; ++i) {
            const auto start = std::chrono::steady_clock::now();
            {
                auto backend = make();
                pid = backend->container_pid(id);
            }
            ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
        }
        std::vector<double> sorted = ms;
        std::sort(sorted.begin(), sorted.end());
        const double median = sorted.size() % 2 ? sorted[sorted.size() / 2]
                                                : (sorted[sorted.size() / 2 - 1] + sorted[sorted.size() / 2]) / 2;
        std::fprintf(stderr, "lookup_ms median=%.3f min=%.3f max=%.3f first=%.3f n=%d threads_after=%d\n", median,
                     sorted.front(), sorted.back(), ms.front(), repeat, count_threads());
        std::cout << pid << std::endl;
        return 0;
    } catch (const std::exception& e) {
        std::cerr << e.what() << std::endl;
        return 1;
    }
}
