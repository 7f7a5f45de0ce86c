/* stress_ng_probe: stands in front of the real stress-ng for the benchmarks. It appends
 * "<CLOCK_MONOTONIC ns> <pid-namespace link>\n" to $STRESS_PROBE_FILE the moment it starts (that is,
 * the moment the helper's stress command is exec'd in the target), then execs /usr/bin/stress-ng
 * with the same arguments. scripts/bench-helper.py puts it first in PATH under the name stress-ng. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    (void)argc;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    const char *out = getenv("STRESS_PROBE_FILE");
    if (out != NULL) {
        char link[64] = "?";
        ssize_t n = readlink("/proc/self/ns/pid", link, sizeof link - 1);
        if (n > 0) link[n] = '\0';
        char line[128];
        int len = snprintf(line, sizeof line, "%lld %s\n", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec, link);
        int fd = open(out, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0) {
            if (write(fd, line, (size_t)len) != len) perror("stress_ng_probe: write");
            close(fd);
        }
    }
    argv[0] = "stress-ng";
    execv("/usr/bin/stress-ng", argv);
    perror("stress_ng_probe: exec /usr/bin/stress-ng");
    return 127;
}
