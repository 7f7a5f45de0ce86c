// containerd's answer: the gRPC length-prefixed frames of the response body, the grpc-status and
// grpc-message trailers, and the protobuf GetResponse (helper/grpc_unix.hpp, runtime_containerd.cpp).
#include "fuzz_common.hpp"
#include "grpc_unix.hpp"

#include <github.com/containerd/containerd/api/services/tasks/v1/tasks.pb.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view t = fuzz::text(data, size);
    try {
        for (const auto& message : stress::grpc_unframe(t, 1 << 20)) {
            containerd::services::tasks::v1::GetResponse answer;
            if (answer.ParseFromString(message)) (void)answer.process().pid();
        }
    } catch (const stress::Error&) {
    }
    (void)stress::parse_grpc_status(t);
    (void)stress::grpc_percent_decode(t);
    containerd::services::tasks::v1::GetResponse answer;
    if (answer.ParseFromArray(data, static_cast<int>(size))) (void)answer.process().status();
    return 0;
}
