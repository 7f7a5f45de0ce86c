#include "inject.hpp"

#include "error.hpp"
#include "log.hpp"
#include "metrics.hpp"
#include "process.hpp"

#include <boost/asio.hpp>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <array>
#include <memory>

namespace stress {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

namespace {

constexpr size_t kOutputKeep = 64 * 1024;

// One run of every plan, from fork to reap. Its members are the run's events, all on one Asio loop
// on this thread: a target's exit (its pidfd turns readable), its output, the chaos timeout,
// SIGTERM/SIGINT, the end of the revert grace, and the memory sample. run() does the steps in order;
// the handlers only record what happened and call finish_if_done().
class StressRun {
public:
    StressRun(const std::vector<StressPlan>& plans, const RunOptions& options, AbortToken& abort)
        : options_(options), abort_(abort), signals_(io_, SIGTERM, SIGINT), timeout_(io_), grace_(io_),
          sampler_(io_) {
        // The signal_set is installed before the first fork: an abort during start-up is not lost.
        targets_.reserve(plans.size());
        for (const auto& plan : plans) targets_.push_back(std::make_unique<Running>(plan));
    }

    RunResult run() {
        attach_all();
        release_all();
        run_hooks();
        watch();
        io_.run();
        return collect();
    }

private:
    // One target during the run.
    struct Running {
        explicit Running(const StressPlan& p) : plan(p), child(p.argv) { outcome.label = p.target.label; }
        const StressPlan& plan;
        PausedChild child;
        std::unique_ptr<asio::posix::stream_descriptor> exit_watch;
        std::unique_ptr<asio::posix::stream_descriptor> output;
        std::array<char, 4096> buffer{};
        TargetOutcome outcome;
        CgroupCounters before;
        uint64_t memory_peak = 0;
        std::optional<IoAccounting> stress_io; // the whole stress tree's, read from the exited nsexec
        bool exited = false;
        bool output_done = false;
        bool gave_up = false; // SIGKILLed and still there (on_kill_ignored)
        bool done() const { return exited && output_done; }
    };

    // 1. Every child is forked paused (constructor); each goes into its target's cgroups. On any
    // failure nothing of the command has run anywhere: every child is abandoned.
    void attach_all() {
        for (auto& t : targets_) {
            try {
                attach_to_cgroups(t->plan.cgroups, t->child.pid());
            } catch (const Error& e) {
                for (auto& other : targets_) other->child.abandon();
                throw Error(ErrorCode::ChaosInjectError,
                            "attach stress process to the cgroups of " + t->plan.target.label + ": " + e.what(), t->plan.target.label);
            }
            t->before = read_counters(t->plan.cgroups);
            t->memory_peak = t->before.memory_bytes.value_or(0);
        }
    }

    // 2. Release them all, as close together as the loop allows.
    void release_all() {
        for (auto& t : targets_) {
            t->child.release();
            t->outcome.start_latency = duration_cast<milliseconds>(Clock::now() - t0_);
        }
        result_.all_started = duration_cast<milliseconds>(Clock::now() - t0_);
        for (auto& t : targets_)
            log::info("[Info]: stress-ng started in the target",
                      {{"target", t->plan.target.label}, {"pid", std::to_string(t->child.pid())},
                       {"startup", std::to_string(t->outcome.start_latency.count()) + "ms"}});
        log::info("[Info]: Stress started in every target",
                  {{"startup", std::to_string(result_.all_started.count()) + "ms"}});
    }

    // 3. The hooks (annotations, the event) block this thread with API calls. SIGTERM/SIGINT stay
    // pending meanwhile — the AbortToken sees them, so a retry loop stops — and reach the signal_set
    // once they are unblocked. A hook that fails reverts the run: nothing may run unrecorded.
    void run_hooks() {
        sigset_t stop_signals, previous_mask;
        sigemptyset(&stop_signals);
        sigaddset(&stop_signals, SIGTERM);
        sigaddset(&stop_signals, SIGINT);
        ::pthread_sigmask(SIG_BLOCK, &stop_signals, &previous_mask);
        try {
            for (auto& t : targets_)
                if (options_.on_started) options_.on_started(t->plan);
            if (options_.on_all_started) options_.on_all_started();
        } catch (const Error& e) {
            if (abort_.requested()) {
                log::info("[Abort]: abort signal received while recording the injection, reverting the chaos");
                revert(RunEnd::Aborted);
            } else {
                log::error("[Error]: " + std::string(e.what()) + "; reverting the chaos");
                result_.hook_error = e;
                revert(RunEnd::HookFailed);
            }
        }
        ::pthread_sigmask(SIG_SETMASK, &previous_mask, nullptr);
    }

    // 4. Every event the loop waits for.
    void watch() {
        signals_.async_wait([this](const boost::system::error_code& ec, int sig) { on_signal(ec, sig); });
        timeout_.expires_after(options_.timeout);
        timeout_.async_wait([this](const boost::system::error_code& ec) { on_timeout(ec); });
        schedule_sample();
        for (auto& t : targets_) {
            // Our own descriptor for the loop: the child keeps its pidfd for its destructor.
            UniqueFd pidfd{::fcntl(t->child.pidfd(), F_DUPFD_CLOEXEC, 0)};
            if (!pidfd) throw_sys(ErrorCode::ChaosInjectError, "fcntl(F_DUPFD_CLOEXEC) pidfd of " + t->plan.target.label);
            t->exit_watch = std::make_unique<asio::posix::stream_descriptor>(io_, pidfd.release());
            t->exit_watch->async_wait(asio::posix::stream_descriptor::wait_read,
                                      [this, target = t.get()](const boost::system::error_code&) { on_exit(*target); });
            t->output = std::make_unique<asio::posix::stream_descriptor>(io_, t->child.take_output().release());
            read_output(*t);
        }
    }

    // --- the events ---------------------------------------------------------------------------

    void on_exit(Running& t) {
        t.stress_io = t.child.io_accounting(); // a zombie still has its totals: read before reaping
        t.child.reap();
        t.exited = true;
        t.outcome.exit_status = t.child.exit_status();
        finish_if_done();
    }

    void read_output(Running& t) {
        t.output->async_read_some(asio::buffer(t.buffer), [this, &t](const boost::system::error_code& ec, size_t n) {
            on_output(t, ec, n);
        });
    }

    void on_output(Running& t, const boost::system::error_code& ec, size_t n) {
        t.outcome.output.append(t.buffer.data(), n);
        if (t.outcome.output.size() > 2 * kOutputKeep) t.outcome.output.erase(0, t.outcome.output.size() - kOutputKeep);
        if (ec) { // EOF: every process that held the pipe is gone
            t.output_done = true;
            finish_if_done();
            return;
        }
        read_output(t);
    }

    void on_signal(const boost::system::error_code& ec, int sig) {
        if (ec) return;
        abort_.request();
        log::info(std::string("[Abort]: ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + " received, reverting the chaos");
        revert(RunEnd::Aborted);
    }

    void on_timeout(const boost::system::error_code& ec) {
        if (ec) return;
        log::warn("[Timeout]: stress did not end within the chaos duration + 30 s, reverting",
                  {{"timeout", std::to_string(options_.timeout.count()) + "s"}});
        revert(RunEnd::TimedOut);
    }

    void on_grace_over(const boost::system::error_code& ec) {
        if (ec) return;
        for (auto& t : targets_) {
            if (t->exited) continue;
            log::warn("[Abort]: stress did not stop within the grace period, sending SIGKILL",
                      {{"target", t->plan.target.label}, {"pid", std::to_string(t->child.pid())}});
            t->child.signal_group(SIGKILL);
        }
        // A SIGKILL is not the end everywhere: in a frozen cgroup it waits for the thaw. The run
        // does not wait for that: after one more grace it gives up on what is left (collect()
        // reports it) instead of hanging until someone thaws the target.
        grace_.expires_after(options_.revert_grace);
        grace_.async_wait([this](const boost::system::error_code& e) { on_kill_ignored(e); });
    }

    void on_kill_ignored(const boost::system::error_code& ec) {
        if (ec) return;
        for (auto& t : targets_) {
            if (t->exited) continue;
            log::error("[Abort]: stress processes did not die after SIGKILL; leaving them to the kernel",
                       {{"target", t->plan.target.label}, {"pid", std::to_string(t->child.pid())},
                        {"frozen", cgroup_frozen(t->plan.cgroups) ? "true" : "false"}});
            t->gave_up = true;
        }
        io_.stop();
    }

    void schedule_sample() {
        sampler_.expires_after(options_.sample_every);
        sampler_.async_wait([this](const boost::system::error_code& ec) { on_sample(ec); });
    }

    void on_sample(const boost::system::error_code& ec) {
        if (ec) return;
        for (auto& t : targets_) {
            if (t->exited) continue;
            if (auto now = read_memory_usage(t->plan.cgroups)) t->memory_peak = std::max(t->memory_peak, *now);
        }
        schedule_sample();
    }

    // --- the steps the events lead to ----------------------------------------------------------

    // SIGTERM to every tree (nsexec stops and reaps its own), SIGKILL after the grace.
    void revert(RunEnd why) {
        if (reverting_) return;
        reverting_ = true;
        result_.end = why;
        revert_started_ = Clock::now();
        for (auto& t : targets_) {
            if (t->exited) continue;
            t->child.signal_group(SIGTERM);
            t->child.signal_group(SIGCONT); // a stopped nsexec would keep SIGTERM pending
        }
        grace_.expires_after(options_.revert_grace);
        grace_.async_wait([this](const boost::system::error_code& ec) { on_grace_over(ec); });
    }

    void finish_if_done() {
        if (!std::all_of(targets_.begin(), targets_.end(), [](const auto& t) { return t->done(); })) return;
        signals_.cancel();
        timeout_.cancel();
        grace_.cancel();
        sampler_.cancel();
        if (reverting_) result_.revert_took = duration_cast<milliseconds>(Clock::now() - revert_started_);
    }

    // 5. Confirm that every process group we started is gone (nsexec exits only after its reaper has
    // reaped the whole stress tree inside the target, so an empty group means an empty tree), then
    // the proof of effect per target.
    RunResult collect() {
        for (auto& t : targets_) {
            const pid_t pgid = t->child.pid();
            if (t->gave_up) t->child.let_go();
            if (::kill(-pgid, 0) == 0 || errno != ESRCH) {
                result_.revert_confirmed = false;
                result_.survivors.push_back(t->plan.target.label +
                                            (cgroup_frozen(t->plan.cgroups)
                                                 ? " (its cgroup is frozen: they die when the target is thawed)"
                                                 : ""));
                log::error("[Abort]: a stress process group is still present after the run",
                           {{"target", t->plan.target.label}, {"pgid", std::to_string(pgid)}});
            }
        }
        for (auto& t : targets_) {
            CgroupCounters after = read_counters(t->plan.cgroups);
            std::string& output = t->outcome.output;
            if (output.size() > kOutputKeep) output.erase(0, output.size() - kOutputKeep);
            t->outcome.summary =
                effect_summary(t->before, after, t->memory_peak, parse_stress_metrics(output), t->stress_io);
            result_.targets.push_back(std::move(t->outcome));
        }
        return std::move(result_);
    }

    const RunOptions& options_;
    AbortToken& abort_;
    const Clock::time_point t0_ = Clock::now();
    asio::io_context io_;
    asio::signal_set signals_;
    asio::steady_timer timeout_;
    asio::steady_timer grace_;
    asio::steady_timer sampler_;
    std::vector<std::unique_ptr<Running>> targets_;
    RunResult result_;
    bool reverting_ = false;
    Clock::time_point revert_started_;
};

} // namespace

RunResult run_stress(const std::vector<StressPlan>& plans, const RunOptions& options, AbortToken& abort) {
    return StressRun(plans, options, abort).run();
}

} // namespace stress
