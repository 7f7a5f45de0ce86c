/*
 * init.c - PID 1 of the end-to-end test VM started by tests/vm/vm.py.
 *
 * Built by vm.py with `gcc -static -O2` and packed as /init into the initramfs, next to the kernel
 * modules it loads (/modules/NAME.ko, load order in /modules/order). It:
 *
 *   1. loads the modules (virtio, 9p, overlay, ext4, ...), dependencies first;
 *   2. mounts the host's root filesystem (virtio-9p tag "hostroot", read-only) and an overlayfs
 *      over it whose upper layer is a tmpfs: the guest sees the host's files and may write
 *      anywhere, and nothing it writes reaches the host;
 *   3. switches root for real (MS_MOVE onto "/", chroot, chdir) so that runc can pivot_root;
 *   4. mounts proc, sysfs, devtmpfs, devpts, /dev/shm, fresh tmpfs on /tmp /run /var/tmp (the
 *      root's view before them stays reachable at /run/vm-host, see guest.py),
 *      cgroup2 at /sys/fs/cgroup (nsdelegate, memory_recursiveprot) with every controller it
 *      lists enabled in the root's cgroup.subtree_control, the job share (virtio-9p tag "vmjob",
 *      read-write) at /run/vm-job and the scratch ext4 disk (/dev/vda) at /run/vm-scratch;
 *      brings up the loopback interface;
 *   5. runs `/usr/bin/python3 /run/vm-job/guest.py /run/vm-job` (the job: command, cwd, env,
 *      exit status) and reaps every orphan meanwhile, as PID 1 must;
 *   6. when guest.py exits, kills what is left, syncs and powers the VM off.
 *
 * Any failure prints "vm-init: ..." on the console and powers off at once: the host then finds
 * no exit status in the job dir and reports the failure. PID 1 never simply exits (that would be
 * a kernel panic). No shell anywhere: every program is started from an argv vector.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define JOB_DIR "/run/vm-job"
#define HOST_VIEW "/run/vm-host" /* the overlay root without the mounts made on it here */
#define SCRATCH_DIR "/run/vm-scratch"
#define SCRATCH_DEV "/dev/vda"
#define PYTHON "/usr/bin/python3"

static void say(const char *fmt, ...)
{
    char buf[1024];
    int n = snprintf(buf, sizeof buf, "vm-init: ");
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(buf + n, sizeof buf - n, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof buf - 2)
        n = sizeof buf - 2;
    buf[n++] = '\n';
    if (write(2, buf, n) < 0) {
        /* nowhere else to report to */
    }
}

static void power_off(void)
{
    tcdrain(2); /* let the serial console send what it holds before the VM goes away */
    sync();
    reboot(RB_POWER_OFF);
    for (;;)
        pause(); /* not reached; PID 1 must never return */
}

static void die(const char *fmt, ...)
{
    char buf[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    say("FATAL: %s", buf);
    power_off();
}

static void mkdir_p(const char *path, mode_t mode)
{
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            mkdir(tmp, 0755);
            *p = '/';
        }
    }
    if (mkdir(tmp, mode) != 0 && errno != EEXIST)
        die("mkdir %s: %s", path, strerror(errno));
}

/* mount(2) that dies on failure, creating the mount point first. */
static void do_mount(const char *src, const char *dst, const char *type, unsigned long flags,
                     const char *data)
{
    mkdir_p(dst, 0755);
    if (mount(src, dst, type, flags, data) != 0)
        die("mount -t %s %s %s -o %s: %s", type, src, dst, data ? data : "", strerror(errno));
}

/* Like do_mount, but retried for up to SECONDS: a device may still be being probed. */
static void mount_retry(const char *src, const char *dst, const char *type, unsigned long flags,
                        const char *data, int seconds)
{
    mkdir_p(dst, 0755);
    for (int i = 0;; i++) {
        if (mount(src, dst, type, flags, data) == 0)
            return;
        if (i >= seconds * 20)
            die("mount -t %s %s %s -o %s: %s", type, src, dst, data ? data : "", strerror(errno));
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static void write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        die("open %s: %s", path, strerror(errno));
    if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        die("write '%s' to %s: %s", text, path, strerror(errno));
    close(fd);
}

/* 1. Every line of /modules/order names a file in /modules; dependencies come first. */
static void load_modules(void)
{
    FILE *f = fopen("/modules/order", "re");
    if (!f)
        die("open /modules/order: %s", strerror(errno));
    char line[256];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        if (!line[0])
            continue;
        char path[300];
        snprintf(path, sizeof path, "/modules/%s", line);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            die("open %s: %s", path, strerror(errno));
        if (syscall(SYS_finit_module, fd, "", 0) != 0 && errno != EEXIST)
            die("finit_module %s: %s", path, strerror(errno));
        close(fd);
        unlink(path); /* the initramfs stays in RAM: give the memory back */
    }
    fclose(f);
}

/* 3. switch_root: the new root replaces the initramfs as "/" (runc cannot pivot_root out of
 * rootfs, so a plain chroot would not do). */
static void switch_root(const char *newroot)
{
    if (chdir(newroot) != 0)
        die("chdir %s: %s", newroot, strerror(errno));
    if (mount(".", "/", NULL, MS_MOVE, NULL) != 0)
        die("mount --move %s /: %s", newroot, strerror(errno));
    if (chroot(".") != 0)
        die("chroot: %s", strerror(errno));
    if (chdir("/") != 0)
        die("chdir /: %s", strerror(errno));
}

/* 4b. Enables every controller cgroup.controllers lists, one at a time so that the error
 * names the controller. */
static void enable_controllers(void)
{
    char list[512] = "";
    int fd = open("/sys/fs/cgroup/cgroup.controllers", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        die("open cgroup.controllers: %s", strerror(errno));
    ssize_t n = read(fd, list, sizeof list - 1);
    close(fd);
    if (n < 0)
        die("read cgroup.controllers: %s", strerror(errno));
    list[n] = 0;
    for (char *save = NULL, *c = strtok_r(list, " \n", &save); c; c = strtok_r(NULL, " \n", &save)) {
        char op[64];
        snprintf(op, sizeof op, "+%s", c);
        write_file("/sys/fs/cgroup/cgroup.subtree_control", op);
    }
}

/* 4c. `ip link set lo up`: the kernel then gives lo 127.0.0.1/8 and ::1 by itself. */
static void loopback_up(void)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        die("socket: %s", strerror(errno));
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0)
        die("SIOCGIFFLAGS lo: %s", strerror(errno));
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0)
        die("SIOCSIFFLAGS lo: %s", strerror(errno));
    close(s);
}

int main(void)
{
    /* The kernel started us with /dev/console (from the initramfs) as fds 0, 1, 2. */
    if (getpid() != 1)
        die("must run as PID 1");

    load_modules();

    /* 2. The host's root, read-only, under an overlay with a tmpfs upper layer. msize 512000 is
     * the largest the virtio transport takes; cache=loose lets the guest cache pages and
     * dentries of a root that does not change under it during one run. */
    do_mount("hostroot", "/lower", "9p", MS_RDONLY,
             "trans=virtio,version=9p2000.L,msize=512000,cache=loose");
    do_mount("tmpfs", "/rw", "tmpfs", 0, "mode=0755");
    mkdir_p("/rw/upper", 0755);
    mkdir_p("/rw/work", 0755);
    do_mount("overlay", "/newroot", "overlay", 0,
             "lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work");

    switch_root("/newroot");

    /* 4. The usual API file systems, then fresh (empty) tmpfs where a booted system has them:
     * the host's /run and /tmp contents (sockets, pid files of its daemons) mean nothing here,
     * and /tmp must not be overlayfs (containerd's overlay snapshotter puts its upper dirs
     * under the test's temp dir, and overlayfs cannot be an upper layer). */
    do_mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    do_mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    do_mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
    do_mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "gid=5,mode=620,ptmxmode=666");
    do_mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
    do_mount("mqueue", "/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    do_mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
    /* The root as it was before the fresh tmpfs below hide the host's /tmp and /var/tmp: a job
     * whose files live there (a clone in /tmp) gets them bound back by guest.py. */
    mkdir_p(HOST_VIEW, 0755);
    do_mount("/", HOST_VIEW, NULL, MS_BIND, NULL);
    do_mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
    do_mount("tmpfs", "/var/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");

    /* 4b. Pure cgroup v2. memory_recursiveprot exists since 5.7; fall back without it. */
    mkdir_p("/sys/fs/cgroup", 0755);
    if (mount("cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              "nsdelegate,memory_recursiveprot") != 0)
        do_mount("cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                 "nsdelegate");
    enable_controllers();

    loopback_up();
    if (sethostname("e2e-vm", 6) != 0)
        die("sethostname: %s", strerror(errno));

    /* 4d. The job share and the scratch disk (formatted by the host before every run). */
    do_mount("vmjob", JOB_DIR, "9p", 0, "trans=virtio,version=9p2000.L,msize=512000,cache=none");
    mount_retry(SCRATCH_DEV, SCRATCH_DIR, "ext4", 0, NULL, 10);

    /* 5. The job. */
    char *argv[] = {PYTHON, JOB_DIR "/guest.py", JOB_DIR, NULL};
    char *envp[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "HOME=/root", "PYTHONDONTWRITEBYTECODE=1", NULL};
    pid_t child = fork();
    if (child < 0)
        die("fork: %s", strerror(errno));
    if (child == 0) {
        execve(argv[0], argv, envp);
        say("exec %s: %s", argv[0], strerror(errno));
        _exit(127);
    }
    for (;;) {
        int status;
        pid_t pid = wait(&status);
        if (pid == child) {
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                say("guest.py failed (wait status %#x)", status);
            break;
        }
        if (pid < 0 && errno != EINTR)
            die("wait: %s", strerror(errno));
    }

    /* 6. Whatever the command left running dies with the VM; kill it first so that nothing
     * writes while we sync. */
    kill(-1, SIGKILL);
    while (wait(NULL) > 0 || errno == EINTR)
        ;
    power_off();
}
