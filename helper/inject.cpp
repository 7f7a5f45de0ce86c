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
