// The environment and the command line → Config (helper/config.hpp), TARGETS included.
// Input: "\0"-separated; parts starting with '-' are argv words, "NAME=value" parts the environment.
#include "config.hpp"
#include "fuzz_common.hpp"
#include "targets.hpp"

#include <map>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto p = fuzz::parts(data, size, 32);
    try {
        (void)stress::parse_targets(p[0]);
    } catch (const stress::Error&) {
    }
    std::vector<std::string> args{"helpers"};
    std::map<std::string, std::string> env;
    for (const auto& part : p) {
        const auto eq = part.find('=');
        if (!part.empty() && part[0] != '-' && eq != std::string::npos && eq > 0) env[part.substr(0, eq)] = part.substr(eq + 1);
        else args.push_back(part);
    }
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    argv.push_back(nullptr);
    const stress::EnvLookup lookup = [&](const std::string& name) -> std::optional<std::string> {
        auto it = env.find(name);
        return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
    try {
        (void)stress::parse_cli(static_cast<int>(args.size()), argv.data(), lookup);
    } catch (const stress::Error&) {
    }
    return 0;
}
