// fuzz_common.hpp — shared by the libFuzzer targets: the input as text, split into parts.
// A target catches stress::Error (a parser's documented answer to bad input) and nothing else: any
// other exception, a crash, a leak or undefined behaviour is a finding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fuzz {

inline std::string_view text(const uint8_t* data, size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

// The input cut at each '\0' (so one input can feed several arguments).
inline std::vector<std::string> parts(const uint8_t* data, size_t size, size_t at_most = 64) {
    std::vector<std::string> out(1);
    for (size_t i = 0; i < size; ++i) {
        if (data[i] == 0 && out.size() < at_most) out.emplace_back();
        else out.back() += static_cast<char>(data[i]);
    }
    return out;
}

} // namespace fuzz
