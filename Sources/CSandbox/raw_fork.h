// fork(2) as the bare system call. glibc's fork() runs pthread_atfork handlers in the caller, and
// OpenBLAS registers one that tears down its thread pool: a sandbox forked while another thread is
// inside an OpenBLAS call leaves that call spinning forever (seen in the test suite). The raw
// clone(SIGCHLD) copies the process like fork() but runs no handlers; the child only makes raw
// system calls before execve or _exit, so it needs none.
#ifndef CSANDBOX_RAW_FORK_H
#define CSANDBOX_RAW_FORK_H
#include <signal.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

static inline pid_t csandbox_raw_fork(void) {
#if defined(__x86_64__) || defined(__aarch64__)
    return (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
#else
    return fork();
#endif
}
#endif
