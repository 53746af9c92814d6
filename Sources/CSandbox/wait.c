// Caller-side helpers for a running sandbox: exit notification (pidfd), peeking at exit without
// reaping (so the process-group id cannot be reused before the group is killed), and reaping.
#define _GNU_SOURCE
#include "csandbox.h"
#include "raw_fork.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int csandbox_pidfd_open(int32_t pid) {
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);  // always close-on-exec
#else
    errno = ENOSYS;
    return -1;
#endif
}

int csandbox_has_exited(int32_t pid) {
    siginfo_t info;
    memset(&info, 0, sizeof info);
    if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0) return -1;
    return info.si_pid != 0;
}

int csandbox_kill_group(int32_t pgid) {
    return kill(-(pid_t)pgid, SIGKILL);
}

int csandbox_reap(int32_t pid, int *exited, int *value, double *cpu_seconds) {
    int st;
    struct rusage usage;
    memset(&usage, 0, sizeof usage);
    while (wait4((pid_t)pid, &st, 0, &usage) < 0) {
        if (errno != EINTR) return -1;
    }
    *exited = WIFEXITED(st);
    *value = WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st);
    *cpu_seconds = (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6 +
                   (double)usage.ru_stime.tv_sec + (double)usage.ru_stime.tv_usec / 1e6;
    return 0;
}

int csandbox_kill_uid(uint32_t uid) {
    pid_t child = csandbox_raw_fork();
    if (child < 0) return -1;
    if (child == 0) {
        // kill(-1) signals every process the caller may signal, except itself: as `uid`, exactly
        // the processes of that uid.
        if (syscall(SYS_setresuid, uid, uid, uid) != 0) _exit(1);
        _exit(kill(-1, SIGKILL) == 0 || errno == ESRCH ? 0 : 1);
    }
    int st;
    while (waitpid(child, &st, 0) < 0) {
        if (errno != EINTR) return -1;
    }
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

int csandbox_pipe(int32_t fds[2]) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) return -1;
    fds[0] = p[0];
    fds[1] = p[1];
    return 0;
}
