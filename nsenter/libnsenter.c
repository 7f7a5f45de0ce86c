/* libnsenter.so — joins a mount namespace in a constructor, right after exec, before main.
 *
 * Why: io stress must write into the target container's filesystem (its volume), but the target
 * image has no stress-ng, often no libc. `nsexec --local` execs the caller's stress-ng with this
 * library preloaded and an open mount-namespace fd in __NSEXEC_MNT_FD. By the time constructors
 * run, the dynamic loader has mapped the program and all its libraries from the caller's
 * filesystem; from here on every path the program opens resolves in the target's. The process is
 * single-threaded at this point, which setns(CLONE_NEWNS) requires (EINVAL otherwise — the reason
 * Go's nsutil can't do this).
 *
 * Rules (docs/architecture.md, "Conventions"): without the trigger variable it does nothing; it never returns with a half
 * state: a failure prints one line and _exit(125)s, like nsexec's own failures. Before main it
 * removes its variables (and itself from LD_PRELOAD), so nothing the program starts inherits them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MNT_FD_VAR "__NSEXEC_MNT_FD"
#define SAVED_PRELOAD_VAR "__NSEXEC_SAVED_LD_PRELOAD"
#define EXIT_NSENTER_FAILED 125

__attribute__((constructor)) static void nsenter_join_mount_namespace(void) {
    const char *value = getenv(MNT_FD_VAR);
    if (value == NULL) return;

    char *end = NULL;
    errno = 0;
    long fd = strtol(value, &end, 10);
    if (errno != 0 || end == value || *end != '\0' || fd < 0 || fd > 1000000) {
        dprintf(STDERR_FILENO, "libnsenter: %s=\"%s\": expected a file descriptor number\n", MNT_FD_VAR, value);
        _exit(EXIT_NSENTER_FAILED);
    }

    /* Restore the environment first: the program and its children must not see us. */
    const char *saved = getenv(SAVED_PRELOAD_VAR);
    if (saved != NULL) {
        setenv("LD_PRELOAD", saved, 1);
        unsetenv(SAVED_PRELOAD_VAR);
    } else {
        unsetenv("LD_PRELOAD");
    }
    unsetenv(MNT_FD_VAR);

    if (setns((int)fd, CLONE_NEWNS) != 0) {
        dprintf(STDERR_FILENO, "libnsenter: setns mnt namespace (fd %ld): %s\n", fd, strerror(errno));
        _exit(EXIT_NSENTER_FAILED);
    }
    close((int)fd);
    /* setns(CLONE_NEWNS) already moves root and cwd to the namespace's root; be explicit anyway. */
    if (chdir("/") != 0) {
        dprintf(STDERR_FILENO, "libnsenter: chdir / in the target's mount namespace: %s\n", strerror(errno));
        _exit(EXIT_NSENTER_FAILED);
    }
}
