// env.hpp — reading the environment through a lookup function, so that tests pass a map.
// Part of the utility floor: depends on nothing else in the project.
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace stress {

// Looks up an environment variable; returns nullopt when unset. Tests pass a map-backed lookup.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// The process's own environment (getenv).
EnvLookup process_env();

} // namespace stress
