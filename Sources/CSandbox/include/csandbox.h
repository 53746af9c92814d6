// CSandbox: the fork/exec half of the Sandbox module, in C because the child must call setrlimit,
// unshare, mount and setresuid between fork and exec, which Foundation's Process cannot do.
//
// Process layout of one run (see spawn.c):
//
//   caller ──fork──▶ outer child (session + process-group leader; unshares the namespaces)
//                      └──fork──▶ inner child (pid 1 of the new pid namespace when there is one;
//                                 sets up mounts, fds, rlimits, identity, socket filter; execve)
//
// The inner child leads a process group of its own; the caller ends a run with
// kill(-inner, SIGKILL). When the inner child is the init of its own pid namespace, its death
// makes the kernel kill every process left in that namespace, including ones that called setsid()
// to leave the group. The outer child is a subreaper: it reaps the inner child and every orphan
// below it (none reaches the host's init), kills the inner child's group once the inner child
// has exited, and exits when no descendant is left, with the inner child's exit code or dying
// of the same signal. Its exit therefore means the whole run is gone.
//
// Between fork and execve the children call only async-signal-safe functions and raw system
// calls (no malloc, no stdio, no locks): the caller may be multithreaded.
#ifndef CSANDBOX_H
#define CSANDBOX_H

#include <stdint.h>

/// Namespaces (bits of csandbox_spec.namespaces and csandbox_launch.namespaces).
enum {
    CSANDBOX_NS_NET = 1,    ///< CLONE_NEWNET: no interfaces but a downed loopback
    CSANDBOX_NS_PID = 2,    ///< CLONE_NEWPID: the program is pid 1 of its own pid namespace
    CSANDBOX_NS_IPC = 4,    ///< CLONE_NEWIPC: private System V IPC and POSIX message queues
    CSANDBOX_NS_MOUNT = 8,  ///< CLONE_NEWNS: private mounts (see CSANDBOX_FS_*)
};

/// Filesystem measures that took effect (bits of csandbox_launch.filesystem).
enum {
    CSANDBOX_FS_READ_ONLY_ROOT = 1,  ///< every mount read-only except the scratch dir and tmpfs
    CSANDBOX_FS_PRIVATE_TMP = 2,     ///< a fresh, size-limited tmpfs on /tmp (and /var/tmp, /dev/shm)
    CSANDBOX_FS_PRIVATE_PROC = 4,    ///< a fresh /proc showing only the sandbox's pid namespace
};

/// Where a launch failed (csandbox_launch.failed_stage).
enum {
    CSANDBOX_STAGE_NONE = 0,
    CSANDBOX_STAGE_PIPE = 1,        ///< creating the status pipe
    CSANDBOX_STAGE_FORK = 2,        ///< forking the outer child
    CSANDBOX_STAGE_SESSION = 3,     ///< setsid in the outer child
    CSANDBOX_STAGE_FORK_INNER = 4,  ///< forking the inner child
    CSANDBOX_STAGE_FDS = 5,         ///< installing stdin/stdout/stderr
    CSANDBOX_STAGE_MOUNT = 6,       ///< re-binding the scratch dir in the private mount namespace
    CSANDBOX_STAGE_CHDIR = 7,       ///< entering the scratch dir
    CSANDBOX_STAGE_RLIMIT = 8,      ///< setting a resource limit
    CSANDBOX_STAGE_IDENTITY = 9,    ///< setgroups/setresgid/setresuid
    CSANDBOX_STAGE_NO_NEW_PRIVS = 10,
    CSANDBOX_STAGE_EXEC = 11,       ///< execve itself (failed_errno: ENOENT, EACCES, ENOEXEC, …)
    CSANDBOX_STAGE_PROTOCOL = 12,   ///< the children's status messages were cut short
};

/// What to run and under which limits. All pointers are borrowed for the duration of the call.
typedef struct {
    const char *path;           ///< absolute path of the executable
    char *const *argv;          ///< NULL-terminated
    char *const *envp;          ///< NULL-terminated; the complete environment of the program
    const char *workdir;        ///< absolute path of the scratch directory (becomes the cwd)
    int stdin_fd;               ///< becomes fd 0 (e.g. /dev/null)
    int stdout_fd;              ///< becomes fd 1 (write end of a pipe)
    int stderr_fd;              ///< becomes fd 2
    int64_t cpu_seconds;        ///< RLIMIT_CPU soft limit, seconds (hard = soft + 1)
    int64_t memory_bytes;       ///< RLIMIT_AS, bytes
    int64_t processes;          ///< RLIMIT_NPROC (per real uid; ignored by the kernel for root)
    int64_t file_bytes;         ///< RLIMIT_FSIZE, bytes
    int64_t open_files;         ///< RLIMIT_NOFILE
    int set_identity;           ///< nonzero: drop to uid/gid with no supplementary groups
    uint32_t uid;
    uint32_t gid;
    int namespaces;             ///< CSANDBOX_NS_* wished for; each is tried, missing ones reported
    int socket_filter;          ///< nonzero: install the seccomp filter refusing non-AF_UNIX sockets
    const char *tmpfs_options;  ///< mount data for the private tmpfs ("size=…,nr_inodes=…,mode=1777")
} csandbox_spec;

/// What happened at launch.
typedef struct {
    int32_t pid;            ///< the outer child; its exit means the run is over; -1 on failure
    int32_t inner_pid;      ///< the inner child (the program): its process group is the run's
    int32_t namespaces;     ///< CSANDBOX_NS_* in force
    int32_t filesystem;     ///< CSANDBOX_FS_* in force
    int32_t socket_filter;  ///< 1 when the seccomp socket filter is installed
    int32_t failed_stage;   ///< CSANDBOX_STAGE_*; NONE on success
    int32_t failed_errno;
} csandbox_launch;

/// Starts a run. Returns 0 once the program has been exec'd (launch->pid is then running and must
/// be reaped with csandbox_reap); -1 when it could not be started (launch->failed_* say why; no
/// process is left behind).
int csandbox_spawn(const csandbox_spec *spec, csandbox_launch *launch);

/// Which of the wished namespaces (CSANDBOX_NS_*) this process may create, plus 16 when the socket
/// filter can be installed, found by trying in a short-lived child. -1 if the child cannot fork.
int csandbox_probe(int namespaces, int socket_filter);

/// Installs the seccomp filter that refuses socket() for every family but AF_UNIX (EACCES), and
/// io_uring_setup and foreign/x32 system calls (ENOSYS). Sets no_new_privs. 0 on success.
int csandbox_install_socket_filter(void);

/// pipe2(fds, O_CLOEXEC) (glibc declares pipe2 only under _GNU_SOURCE). 0 on success, -1 (errno).
int csandbox_pipe(int32_t fds[2]);

/// pidfd_open(pid): a descriptor that polls readable when the process exits; -1 if unsupported.
int csandbox_pidfd_open(int32_t pid);

/// 1 if the child has exited (it stays a zombie, not reaped), 0 if it runs, -1 on error.
int csandbox_has_exited(int32_t pid);

/// SIGKILL to every process of the group (the run). 0 on success, -1 (errno) otherwise.
int csandbox_kill_group(int32_t pgid);

/// SIGKILL to every process running as `uid` (needs root; only for a uid no one else uses: the
/// sweep after a run without a pid namespace). 0 on success, -1 otherwise.
int csandbox_kill_uid(uint32_t uid);

/// Waits for and reaps the child. Sets *exited (1: normal exit, *value = code; 0: killed, *value =
/// signal) and *cpu_seconds (user + system, including reaped descendants). 0 on success, -1 on error.
int csandbox_reap(int32_t pid, int *exited, int *value, double *cpu_seconds);

#endif
