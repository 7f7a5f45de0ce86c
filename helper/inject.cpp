#include "inject.hpp"

#include "error.hpp"
#include "log.hpp"
#include "metrics.hpp"
#include "process.hpp"

#include <boost/asio.hpp>

#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdlib>
#include <memory>

namespace stress {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

namespace {

bool is_executable_file(const std::string& path) {
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

bool is_readable_file(const std::string& path) {
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), R_OK) == 0;
}

std::string own_directory() {
    char buf[PATH_MAX];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return {};
    std::string exe(buf, static_cast<size_t>(n));
    return exe.substr(0, exe.rfind('/'));
}

std::string find_in_path(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    size_t start = 0;
    while (start <= dirs.size()) {
        size_t end = dirs.find(':', start);
        if (end == std::string::npos) end = dirs.size();
        std::string candidate = dirs.substr(start, end - start) + "/" + name;
        if (end > start && is_executable_file(candidate)) return candidate;
        start = end + 1;
    }
    return {};
}

constexpr size_t kOutputKeep = 64 * 1024;

// One target during the run.
struct Running {
    const StressPlan* plan;
    std::unique_ptr<PausedChild> child;
    std::unique_ptr<asio::posix::stream_descriptor> exit_watch;
    std::unique_ptr<asio::posix::stream_descriptor> output;
    std::array<char, 4096> buffer{};
    TargetOutcome outcome;
    CgroupCounters before;
    uint64_t memory_peak = 0;
    std::optional<IoAccounting> stress_io; // the whole stress tree's, read from the exited nsexec
    bool exited = false;
    bool output_done = false;
    bool done() const { return exited && output_done; }
};

} // namespace

bool abort_pending() noexcept {
    sigset_t pending;
    if (::sigpending(&pending) != 0) return false;
    return sigismember(&pending, SIGTERM) == 1 || sigismember(&pending, SIGINT) == 1;
}

Parts find_parts(const std::string& nsexec_override, const std::string& libnsenter_override) {
    Parts parts;
    std::string here = own_directory();
    std::vector<std::string> looked;

    if (!nsexec_override.empty()) {
        if (!is_executable_file(nsexec_override))
            throw Error(ErrorCode::HelperError, "nsexec \"" + nsexec_override + "\": not an executable file");
        parts.nsexec = nsexec_override;
    } else if (!here.empty() && is_executable_file(here + "/nsexec")) {
        parts.nsexec = here + "/nsexec";
    } else {
        parts.nsexec = find_in_path("nsexec");
        if (parts.nsexec.empty())
            throw Error(ErrorCode::HelperError,
                        "nsexec not found: looked next to the helper (" + here + "/nsexec) and in PATH; "
                        "set --nsexec or NSEXEC_PATH");
    }

    if (!libnsenter_override.empty()) {
        if (!is_readable_file(libnsenter_override))
            throw Error(ErrorCode::HelperError, "libnsenter \"" + libnsenter_override + "\": not a readable file");
        parts.libnsenter = libnsenter_override;
    } else if (!here.empty() && is_readable_file(here + "/libnsenter.so")) {
        parts.libnsenter = here + "/libnsenter.so";
    } else if (is_readable_file("/usr/local/lib/libnsenter.so")) {
        parts.libnsenter = "/usr/local/lib/libnsenter.so";
    } else {
        throw Error(ErrorCode::HelperError,
                    "libnsenter.so not found: looked next to the helper (" + here +
                        "/libnsenter.so) and at /usr/local/lib/libnsenter.so; set --libnsenter or LIBNSENTER_PATH");
    }
    return parts;
}

std::vector<std::string> nsexec_argv(const Parts& parts, pid_t target_pid, bool enter_mount_namespace,
                                     const std::vector<std::string>& stress_argv) {
    std::string ns = "/proc/" + std::to_string(target_pid) + "/ns/";
    std::vector<std::string> argv{parts.nsexec, "-p", ns + "pid"};
    if (enter_mount_namespace) {
        // --local: stress-ng and its libraries come from this image, its files land in the target.
        argv.insert(argv.end(), {"-m", ns + "mnt", "--local", "--library-path", parts.libnsenter});
    }
    argv.push_back("--");
    argv.insert(argv.end(), stress_argv.begin(), stress_argv.end());
    return argv;
}

RunResult run_stress(const std::vector<StressPlan>& plans, const RunOptions& options) {
    const auto t0 = Clock::now();
    asio::io_context io;
    // Installed before the first fork so an abort during start-up is not lost.
    asio::signal_set signals(io, SIGTERM, SIGINT);
    asio::steady_timer timeout(io);
    asio::steady_timer grace(io);
    asio::steady_timer sampler(io);

    RunResult result;
    std::vector<std::unique_ptr<Running>> runs;
    runs.reserve(plans.size());

    // 1. Fork every target's child, paused. Nothing runs yet.
    for (const auto& plan : plans) {
        auto r = std::make_unique<Running>();
        r->plan = &plan;
        r->outcome.label = plan.label;
        r->child = std::make_unique<PausedChild>(plan.argv);
        runs.push_back(std::move(r));
    }

    // 2. Put each into its target's cgroups; on any failure nothing has run: abandon all.
    for (auto& r : runs) {
        try {
            attach_to_cgroups(r->plan->cgroups, r->child->pid());
        } catch (const Error& e) {
            for (auto& other : runs) other->child->abandon();
            throw Error(ErrorCode::ChaosInjectError,
                        "attach stress process to the cgroups of " + r->plan->label + ": " + e.what(), r->plan->label);
        }
        r->before = read_counters(r->plan->cgroups);
        r->memory_peak = r->before.memory_bytes.value_or(0);
    }

    // 3. Release them all, then report each as injected.
    for (auto& r : runs) {
        r->child->release();
        r->outcome.start_latency = duration_cast<milliseconds>(Clock::now() - t0);
    }
    result.all_started = duration_cast<milliseconds>(Clock::now() - t0);
    for (auto& r : runs)
        log::info("[Info]: stress-ng started in the target",
                  {{"target", r->plan->label}, {"pid", std::to_string(r->child->pid())},
                   {"startup", std::to_string(r->outcome.start_latency.count()) + "ms"}});
    log::info("[Info]: Stress started in every target", {{"startup", std::to_string(result.all_started.count()) + "ms"}});

    bool reverting = false;
    Clock::time_point revert_started;
    auto all_done = [&] { return std::all_of(runs.begin(), runs.end(), [](const auto& r) { return r->done(); }); };
    auto finish_if_done = [&] {
        if (!all_done()) return;
        signals.cancel();
        timeout.cancel();
        grace.cancel();
        sampler.cancel();
        if (reverting) result.revert_took = duration_cast<milliseconds>(Clock::now() - revert_started);
    };

    // Revert: SIGTERM to every tree (nsexec stops and reaps its own), SIGKILL after the grace.
    auto revert = [&](RunEnd why) {
        if (reverting) return;
        reverting = true;
        result.end = why;
        revert_started = Clock::now();
        for (auto& r : runs)
            if (!r->exited) r->child->signal_group(SIGTERM);
        grace.expires_after(options.revert_grace);
        grace.async_wait([&](const boost::system::error_code& ec) {
            if (ec) return;
            for (auto& r : runs) {
                if (r->exited) continue;
                log::warn("[Abort]: stress did not stop within the grace period, sending SIGKILL",
                          {{"target", r->plan->label}, {"pid", std::to_string(r->child->pid())}});
                r->child->signal_group(SIGKILL);
            }
        });
    };

    // The hooks block this thread (API calls with retries). SIGTERM/SIGINT stay pending meanwhile,
    // visible to abort_pending(), and reach the signal_set once they are unblocked below.
    sigset_t stop_signals, previous_mask;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    ::pthread_sigmask(SIG_BLOCK, &stop_signals, &previous_mask);
    try {
        for (auto& r : runs)
            if (options.on_started) options.on_started(*r->plan);
        if (options.on_all_started) options.on_all_started();
    } catch (const Error& e) {
        if (abort_pending()) {
            log::info("[Abort]: abort signal received while recording the injection, reverting the chaos");
            revert(RunEnd::Aborted);
        } else {
            log::error("[Error]: " + std::string(e.what()) + "; reverting the chaos");
            result.hook_error = e;
            revert(RunEnd::HookFailed);
        }
    }
    ::pthread_sigmask(SIG_SETMASK, &previous_mask, nullptr);

    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        log::info(std::string("[Abort]: ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") +
                  " received, reverting the chaos");
        revert(RunEnd::Aborted);
    });
    timeout.expires_after(options.timeout);
    timeout.async_wait([&](const boost::system::error_code& ec) {
        if (ec) return;
        log::warn("[Timeout]: stress did not end within the chaos duration + 30 s, reverting",
                  {{"timeout", std::to_string(options.timeout.count()) + "s"}});
        revert(RunEnd::TimedOut);
    });

    std::function<void()> sample = [&] {
        sampler.expires_after(options.sample_every);
        sampler.async_wait([&](const boost::system::error_code& ec) {
            if (ec) return;
            for (auto& r : runs) {
                if (r->exited) continue;
                if (auto now = read_counters(r->plan->cgroups).memory_bytes) r->memory_peak = std::max(r->memory_peak, *now);
            }
            sample();
        });
    };
    sample();

    for (auto& r : runs) {
        Running* run = r.get();
        run->exit_watch = std::make_unique<asio::posix::stream_descriptor>(io, ::dup(run->child->pidfd()));
        run->exit_watch->async_wait(asio::posix::stream_descriptor::wait_read, [&, run](const boost::system::error_code&) {
            run->stress_io = run->child->io_accounting(); // a zombie still has its totals: read before reaping
            run->child->reap();
            run->exited = true;
            run->outcome.exit_status = run->child->exit_status();
            finish_if_done();
        });
        run->output = std::make_unique<asio::posix::stream_descriptor>(io, run->child->take_output().release());
        auto read_more = std::make_shared<std::function<void()>>();
        *read_more = [&, run, read_more] {
            run->output->async_read_some(asio::buffer(run->buffer), [&, run, read_more](const boost::system::error_code& ec,
                                                                                         size_t n) {
                run->outcome.output.append(run->buffer.data(), n);
                if (run->outcome.output.size() > 2 * kOutputKeep)
                    run->outcome.output.erase(0, run->outcome.output.size() - kOutputKeep);
                if (ec) {
                    run->output_done = true;
                    *read_more = nullptr; // break the self-reference
                    finish_if_done();
                    return;
                }
                (*read_more)();
            });
        };
        (*read_more)();
    }

    io.run();

    // Confirm: every process group we started is gone (nsexec exits only after its reaper has reaped
    // the whole stress tree inside the target, so an empty group means an empty tree).
    for (auto& r : runs) {
        if (::kill(-r->child->pid(), 0) == 0 || errno != ESRCH) {
            result.revert_confirmed = false;
            log::error("[Abort]: a stress process group is still present after the run",
                       {{"target", r->plan->label}, {"pgid", std::to_string(r->child->pid())}});
        }
    }
    for (auto& r : runs) {
        CgroupCounters after = read_counters(r->plan->cgroups);
        if (r->outcome.output.size() > kOutputKeep) r->outcome.output.erase(0, r->outcome.output.size() - kOutputKeep);
        r->outcome.summary = effect_summary(r->before, after, r->memory_peak, parse_stress_metrics(r->outcome.output),
                                           r->stress_io);
        result.targets.push_back(std::move(r->outcome));
    }
    return result;
}

} // namespace stress
