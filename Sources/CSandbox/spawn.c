// The two-level fork of csandbox_spawn (layout in include/csandbox.h). Children report progress and
// failures to the caller as fixed 16-byte records on a close-on-exec pipe: the caller reads until
// end-of-file, which comes when execve succeeds (the pipe closes with it) or the children exit.
//
// Everything between fork and execve is async-signal-safe (POSIX.1-2017 §2.4.3) or a raw system
// call; no heap, no stdio, no locks.
#define _GNU_SOURCE
#include "csandbox.h"
#include "raw_fork.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#define MOUNT_ATTR_RDONLY_BIT 0x00000001

// The prefix of struct mount_attr (linux/mount.h, which clashes with sys/mount.h on glibc 2.36).
struct csandbox_mount_attr {
    uint64_t attr_set, attr_clr, propagation, userns_fd;
};

enum { RECORD_NAMESPACES = 1, RECORD_INNER = 2, RECORD_SETUP = 3, RECORD_FAILURE = 4 };
typedef struct {
    int32_t kind, a, b, c;
} record;

/// Directories that get a private tmpfs in the mount namespace.
static const char *const masked_dirs[] = {"/tmp", "/var/tmp", "/dev/shm"};

// MARK: - Helpers usable between fork and exec

static void send_record(int fd, int32_t kind, int32_t a, int32_t b, int32_t c) {
    record r = {kind, a, b, c};
    ssize_t n;
    do {
        n = write(fd, &r, sizeof r);
    } while (n < 0 && errno == EINTR);
}

static _Noreturn void fail(int fd, int stage) {
    int saved = errno;
    send_record(fd, RECORD_FAILURE, stage, saved, 0);
    _exit(127);
}

/// Closes every descriptor >= lowest.
static void close_from(int lowest) {
    if (syscall(SYS_close_range, (unsigned)lowest, ~0U, 0) == 0) return;
    struct rlimit rl;
    long highest = 65536;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 65536)
        highest = (long)rl.rlim_cur;
    for (long fd = lowest; fd < highest; fd++) close((int)fd);
}

/// Default dispositions for every signal and an empty mask (the caller's are inherited by fork).
static void reset_signals(void) {
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; s++) {
        if (s != SIGKILL && s != SIGSTOP) sigaction(s, &dfl, NULL);  // glibc-reserved ones: EINVAL
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/// Sets soft and hard limit; if raising the hard limit is not permitted, keeps the current hard one.
static int set_limit(int resource, int64_t soft, int64_t hard) {
    struct rlimit rl = {(rlim_t)soft, (rlim_t)hard};
    if (setrlimit(resource, &rl) == 0) return 0;
    struct rlimit current;
    if (errno != EPERM || getrlimit(resource, &current) != 0) return -1;
    if (current.rlim_max != RLIM_INFINITY && rl.rlim_max > current.rlim_max) rl.rlim_max = current.rlim_max;
    if (rl.rlim_cur > rl.rlim_max) rl.rlim_cur = rl.rlim_max;
    return setrlimit(resource, &rl);
}

/// "/proc/self/fd/<fd>" into buf (at least 32 bytes).
static void fd_path(char *buf, int fd) {
    static const char prefix[] = "/proc/self/fd/";
    memcpy(buf, prefix, sizeof prefix - 1);
    char digits[12];
    int n = 0;
    do {
        digits[n++] = (char)('0' + fd % 10);
        fd /= 10;
    } while (fd > 0 && n < 11);
    char *p = buf + sizeof prefix - 1;
    while (n > 0) *p++ = digits[--n];
    *p = 0;
}

/// mkdir -p, ignoring errors (the bind mount that follows reports what matters).
static void make_directories(const char *path) {
    char buf[4096];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof buf) return;
    memcpy(buf, path, len + 1);
    for (size_t i = 1; i < len; i++) {
        if (buf[i] != '/') continue;
        buf[i] = 0;
        mkdir(buf, 0755);
        buf[i] = '/';
    }
    mkdir(buf, 0755);
}

// MARK: - Inner child

/// In the private mount namespace: everything read-only, fresh tmpfs on the masked dirs, the
/// scratch dir bound back read-write at its own path, and (in a pid namespace) a fresh /proc.
static int setup_filesystem(const csandbox_spec *s, int ep, int namespaces) {
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) return 0;  // keep host mounts as they are
    int fs = 0;
    int scratch = open(s->workdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (scratch < 0) fail(ep, CSANDBOX_STAGE_CHDIR);
    struct csandbox_mount_attr ro = {MOUNT_ATTR_RDONLY_BIT, 0, 0, 0};
    if (syscall(SYS_mount_setattr, AT_FDCWD, "/", AT_RECURSIVE, &ro, sizeof ro) == 0)
        fs |= CSANDBOX_FS_READ_ONLY_ROOT;
    int masked = 1;
    for (size_t i = 0; i < sizeof masked_dirs / sizeof masked_dirs[0]; i++) {
        if (mount("tmpfs", masked_dirs[i], "tmpfs", MS_NOSUID | MS_NODEV, s->tmpfs_options) != 0 &&
            errno != ENOENT)
            masked = 0;
    }
    if (masked) fs |= CSANDBOX_FS_PRIVATE_TMP;
    make_directories(s->workdir);  // recreates the path when a tmpfs now hides it
    char source[32];
    fd_path(source, scratch);
    if (mount(source, s->workdir, NULL, MS_BIND, NULL) != 0) fail(ep, CSANDBOX_STAGE_MOUNT);
    if (mount(NULL, s->workdir, NULL, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV, NULL) != 0)
        fail(ep, CSANDBOX_STAGE_MOUNT);
    close(scratch);
    if ((namespaces & CSANDBOX_NS_PID) &&
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0)
        fs |= CSANDBOX_FS_PRIVATE_PROC;
    return fs;
}

static _Noreturn void run_inner(const csandbox_spec *s, int ep, int namespaces) {
    reset_signals();
    setpgid(0, 0);  // a process group of its own: the caller's kill(-inner) spares the outer child

    // Descriptors: 0, 1, 2 from the spec, 3 the status pipe (close-on-exec), nothing else.
    int in = fcntl(s->stdin_fd, F_DUPFD_CLOEXEC, 10);
    int out = fcntl(s->stdout_fd, F_DUPFD_CLOEXEC, 10);
    int err = fcntl(s->stderr_fd, F_DUPFD_CLOEXEC, 10);
    int status = fcntl(ep, F_DUPFD_CLOEXEC, 10);
    if (in < 0 || out < 0 || err < 0 || status < 0) fail(ep, CSANDBOX_STAGE_FDS);
    ep = status;
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0 || dup2(status, 3) < 0)
        fail(ep, CSANDBOX_STAGE_FDS);
    ep = 3;
    if (fcntl(ep, F_SETFD, FD_CLOEXEC) != 0) fail(ep, CSANDBOX_STAGE_FDS);
    close_from(4);

    int fs = (namespaces & CSANDBOX_NS_MOUNT) ? setup_filesystem(s, ep, namespaces) : 0;
    if (chdir(s->workdir) != 0) fail(ep, CSANDBOX_STAGE_CHDIR);

    if (set_limit(RLIMIT_CORE, 0, 0) != 0 ||
        set_limit(RLIMIT_CPU, s->cpu_seconds, s->cpu_seconds + 1) != 0 ||
        set_limit(RLIMIT_AS, s->memory_bytes, s->memory_bytes) != 0 ||
        set_limit(RLIMIT_NPROC, s->processes, s->processes) != 0 ||
        set_limit(RLIMIT_FSIZE, s->file_bytes, s->file_bytes) != 0 ||
        set_limit(RLIMIT_NOFILE, s->open_files, s->open_files) != 0)
        fail(ep, CSANDBOX_STAGE_RLIMIT);

    if (s->set_identity) {
        // Raw system calls: glibc's wrappers would try to synchronise threads that fork dropped.
        if (syscall(SYS_setgroups, 0, NULL) != 0) fail(ep, CSANDBOX_STAGE_IDENTITY);
        if (syscall(SYS_setresgid, s->gid, s->gid, s->gid) != 0) fail(ep, CSANDBOX_STAGE_IDENTITY);
        if (syscall(SYS_setresuid, s->uid, s->uid, s->uid) != 0) fail(ep, CSANDBOX_STAGE_IDENTITY);
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail(ep, CSANDBOX_STAGE_NO_NEW_PRIVS);
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);  // credential changes clear it; the outer child's death kills us
    int filtered = s->socket_filter && csandbox_install_socket_filter() == 0;

    send_record(ep, RECORD_SETUP, fs, filtered, 0);
    execve(s->path, s->argv, s->envp);
    fail(ep, CSANDBOX_STAGE_EXEC);
}

// MARK: - Outer child

static _Noreturn void run_outer(const csandbox_spec *s, int ep, pid_t caller) {
    reset_signals();
    if (setsid() < 0) fail(ep, CSANDBOX_STAGE_SESSION);
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (getppid() != caller) _exit(127);  // the caller died before prctl
    // Orphans of the program come to us, not to the host's init, so that we can reap them all.
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);

    static const struct {
        int bit, flag;
    } kinds[] = {
        {CSANDBOX_NS_NET, CLONE_NEWNET},
        {CSANDBOX_NS_IPC, CLONE_NEWIPC},
        {CSANDBOX_NS_MOUNT, CLONE_NEWNS},
        {CSANDBOX_NS_PID, CLONE_NEWPID},  // last: applies to the next fork only
    };
    int namespaces = 0;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if ((s->namespaces & kinds[i].bit) && unshare(kinds[i].flag) == 0) namespaces |= kinds[i].bit;
    }
    send_record(ep, RECORD_NAMESPACES, namespaces, 0, 0);

    pid_t inner = csandbox_raw_fork();
    if (inner < 0) fail(ep, CSANDBOX_STAGE_FORK_INNER);
    if (inner == 0) run_inner(s, ep, namespaces);
    send_record(ep, RECORD_INNER, inner, 0, 0);
    close_from(0);  // the pipes must see end-of-file when the program and its children are gone

    // Reap everything: the program, then whatever it left (in a pid namespace the kernel kills
    // that; otherwise its process group is killed here, and orphans that left the group come to
    // us as subreaper until the caller's sweep ends them). We exit when no descendant is left.
    int st = 0, inner_status = 0, inner_done = 0;
    for (;;) {
        pid_t pid = waitpid(-1, &st, 0);
        if (pid < 0) {
            if (errno == EINTR) continue;
            break;  // ECHILD: no descendant left
        }
        if (pid == inner) {
            inner_status = st;
            inner_done = 1;
            kill(-inner, SIGKILL);  // stragglers in the program's group
        }
    }
    if (!inner_done) _exit(127);
    st = inner_status;
    if (WIFEXITED(st)) _exit(WEXITSTATUS(st));
    int sig = WTERMSIG(st);  // die of the same signal (core dumps are off)
    kill(getpid(), sig);
    _exit(128 + sig);
}

// MARK: - Caller side

int csandbox_spawn(const csandbox_spec *spec, csandbox_launch *launch) {
    memset(launch, 0, sizeof *launch);
    launch->pid = -1;
    launch->inner_pid = -1;
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        launch->failed_stage = CSANDBOX_STAGE_PIPE;
        launch->failed_errno = errno;
        return -1;
    }
    pid_t caller = getpid();
    pid_t outer = csandbox_raw_fork();
    if (outer < 0) {
        launch->failed_stage = CSANDBOX_STAGE_FORK;
        launch->failed_errno = errno;
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (outer == 0) {
        close(p[0]);
        run_outer(spec, p[1], caller);
    }
    close(p[1]);

    int saw_namespaces = 0, saw_setup = 0;
    record r;
    size_t have = 0;
    for (;;) {
        ssize_t n = read(p[0], (char *)&r + have, sizeof r - have);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        have += (size_t)n;
        if (have < sizeof r) continue;
        have = 0;
        if (r.kind == RECORD_NAMESPACES) {
            saw_namespaces = 1;
            launch->namespaces = r.a;
        } else if (r.kind == RECORD_INNER) {
            launch->inner_pid = r.a;
        } else if (r.kind == RECORD_SETUP) {
            saw_setup = 1;
            launch->filesystem = r.a;
            launch->socket_filter = r.b;
        } else if (r.kind == RECORD_FAILURE && launch->failed_stage == CSANDBOX_STAGE_NONE) {
            launch->failed_stage = r.a;
            launch->failed_errno = r.b;
        }
    }
    close(p[0]);
    if (launch->failed_stage == CSANDBOX_STAGE_NONE &&
        (!saw_namespaces || !saw_setup || launch->inner_pid <= 0 || have != 0))
        launch->failed_stage = CSANDBOX_STAGE_PROTOCOL;
    if (launch->failed_stage != CSANDBOX_STAGE_NONE) {
        if (launch->inner_pid > 0) kill(-launch->inner_pid, SIGKILL);
        kill(outer, SIGKILL);
        int st;
        while (waitpid(outer, &st, 0) < 0 && errno == EINTR) {
        }
        return -1;
    }
    launch->pid = outer;
    return 0;
}

int csandbox_probe(int namespaces, int socket_filter) {
    pid_t child = csandbox_raw_fork();
    if (child < 0) return -1;
    if (child == 0) {
        static const int flags[4][2] = {
            {CSANDBOX_NS_NET, CLONE_NEWNET},
            {CSANDBOX_NS_IPC, CLONE_NEWIPC},
            {CSANDBOX_NS_MOUNT, CLONE_NEWNS},
            {CSANDBOX_NS_PID, CLONE_NEWPID},
        };
        int got = 0;
        for (int i = 0; i < 4; i++) {
            if ((namespaces & flags[i][0]) && unshare(flags[i][1]) == 0) got |= flags[i][0];
        }
        if (socket_filter && csandbox_install_socket_filter() == 0) got |= 16;
        _exit(got);
    }
    int st;
    while (waitpid(child, &st, 0) < 0) {
        if (errno != EINTR) return -1;
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
