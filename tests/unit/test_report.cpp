// The report step (helper/report.cpp): which failure decides a run, effects per pod, the OOM rule.
#include "report.hpp"

#include <catch2/catch.hpp>

using namespace stress;

namespace {

StressPlan plan(const std::string& pod, const std::string& container) {
    StressPlan p;
    p.target.pod = pod;
    p.target.container = container;
    p.target.label = "{podName: " + pod + ", namespace: ns, container: " + container + "}";
    return p;
}

TargetOutcome done(int exit_status, const std::string& summary = "cpu 1.00 core-s") {
    TargetOutcome o;
    o.exit_status = exit_status;
    o.summary = summary;
    o.output = "stress-ng: info: a\nstress-ng: error: b\n";
    return o;
}

const std::vector<StressPlan> kPlans = {plan("web", "app"), plan("web", "sidecar"), plan("db", "pg")};

} // namespace

TEST_CASE("report: a clean run succeeds and groups the effects per pod", "[report]") {
    RunResult r;
    r.targets = {done(0, "cpu 1.00 core-s"), done(0, "cpu 0.50 core-s"), done(0, "cpu 2.00 core-s")};
    RunOutcome o = judge_run(kPlans, r, nullptr, std::nullopt);
    CHECK(o.verdict == RunOutcome::Verdict::Succeeded);
    CHECK_FALSE(o.error);
    CHECK(o.effects.at("web") == "app: cpu 1.00 core-s | sidecar: cpu 0.50 core-s");
    CHECK(o.effects.at("db") == "pg: cpu 2.00 core-s");
}

TEST_CASE("report: the first failed stress-ng decides, with its last lines", "[report]") {
    RunResult r;
    r.targets = {done(0), done(2), done(3)};
    RunOutcome o = judge_run(kPlans, r, nullptr, std::nullopt);
    REQUIRE(o.verdict == RunOutcome::Verdict::Failed);
    CHECK(o.error->code() == ErrorCode::ChaosInjectError);
    CHECK(o.error->target() == kPlans[1].target.label);
    CHECK_THAT(o.error->what(), Catch::Contains("status 2") && Catch::EndsWith("stress-ng: error: b"));
}

TEST_CASE("report: an OOM-killed target counts as done, and only failed targets are asked", "[report]") {
    RunResult r;
    r.targets = {done(0), done(137), done(0)};
    int asked = 0;
    auto oom = [&](const StressPlan& p) { ++asked; return p.target.container == "sidecar"; };
    CHECK(judge_run(kPlans, r, oom, std::nullopt).verdict == RunOutcome::Verdict::Succeeded);
    CHECK(asked == 1);
}

TEST_CASE("report: the precedence of failures is the documented one", "[report]") {
    const Error annotation(ErrorCode::ChaosResultCrudError, "annotate: HTTP 500");
    RunResult r;
    r.targets = {done(1), done(0), done(0)};
    // 6 < 5: a failed stress beats a failed "reverted" annotation
    CHECK(judge_run(kPlans, r, nullptr, annotation).error->code() == ErrorCode::ChaosInjectError);
    // annotation alone
    RunResult clean;
    clean.targets = {done(0), done(0), done(0)};
    CHECK(judge_run(kPlans, clean, nullptr, annotation).error->code() == ErrorCode::ChaosResultCrudError);
    // 4: timed out (exit statuses after a revert say nothing)
    r.end = RunEnd::TimedOut;
    CHECK_THAT(judge_run(kPlans, r, nullptr, annotation).error->what(), Catch::Contains("TOTAL_CHAOS_DURATION"));
    // 3: aborted, no error at all
    r.end = RunEnd::Aborted;
    RunOutcome aborted = judge_run(kPlans, r, nullptr, annotation);
    CHECK(aborted.verdict == RunOutcome::Verdict::Aborted);
    CHECK_FALSE(aborted.error);
    // 2: a failed hook beats an abort
    r.hook_error = Error(ErrorCode::ChaosResultCrudError, "annotate injected: HTTP 403");
    CHECK_THAT(judge_run(kPlans, r, nullptr, annotation).error->what(), Catch::Contains("403"));
    // 1: a survivor beats everything
    r.revert_confirmed = false;
    CHECK(judge_run(kPlans, r, nullptr, annotation).error->code() == ErrorCode::ChaosRevertError);
}

TEST_CASE("report: last_lines", "[report]") {
    CHECK(last_lines("a\nb\nc\n", 2) == "b\nc");
    CHECK(last_lines("", 3) == "(no output)");
    CHECK(last_lines("only", 6) == "only");
}
