// The caller's half of a run: one poll(2) loop that drains stdout and stderr together (so neither
// pipe can fill and block the program), enforces the wall clock and the output cap by killing the
// run's process group, notices the exit through a pidfd, and reaps.
import CSandbox
import Foundation

/// What the supervisor saw; interpreted into a SandboxOutcome by Sandbox.
struct SupervisionReport {
    var stdout = Data()
    var stderr = Data()
    var stdoutTruncated = false
    var stderrTruncated = false
    var timedOut = false
    var outputExceeded = false
    var status = TerminationStatus.exited(0)
    var cpuSeconds = 0.0
    var wallSeconds = 0.0
}

enum Supervisor {
    /// How long streams are still read after the run is over: only a process that escaped it
    /// (possible without a pid namespace) keeps them open.
    static let drainGrace: Duration = .seconds(1)
    /// How long after killing the program's group the run may take to end before the outer child
    /// itself is killed (only a process out of reach of both the group and the uid sweep, as can
    /// happen without a pid namespace and without root, delays it).
    static let killGrace: Duration = .seconds(2)
    /// Poll interval when pidfd_open is unavailable, and while a kill takes effect.
    static let tick: Duration = .milliseconds(10)

    /// Supervises `run` until it is over (its outer child has exited) and reaps it. Takes
    /// ownership of the two read ends (closes them). `sweepUID`: a uid used by this run alone
    /// whose processes are killed together with the program's group (runs without pid namespace).
    static func supervise(
        _ run: LaunchedProcess, stdout: Int32, stderr: Int32, limits: SandboxLimits, sweepUID: UInt32?,
        started: ContinuousClock.Instant
    ) -> SupervisionReport {
        let clock = ContinuousClock()
        let deadline = started + .seconds(limits.wallSeconds)
        var streams = [Stream(fd: stdout), Stream(fd: stderr)]
        for stream in streams { _ = fcntl(stream.fd, F_SETFL, fcntl(stream.fd, F_GETFL) | O_NONBLOCK) }
        let pidfd = csandbox_pidfd_open(run.pid)
        defer {
            if pidfd >= 0 { close(pidfd) }
            for stream in streams where stream.isOpen { close(stream.fd) }
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { buffer.deallocate() }

        var report = SupervisionReport()
        var killedAt: ContinuousClock.Instant?
        var exitedAt: ContinuousClock.Instant?
        func kill() {
            guard killedAt == nil else { return }
            _ = csandbox_kill_group(run.group)
            if let sweepUID { _ = csandbox_kill_uid(sweepUID) }
            killedAt = clock.now
        }

        while true {
            let now = clock.now
            if exitedAt == nil {
                if csandbox_has_exited(run.pid) == 1 {
                    exitedAt = now
                } else if killedAt == nil && now >= deadline {
                    report.timedOut = true
                    kill()
                } else if let killedAt, now >= killedAt + killGrace {
                    _ = Glibc.kill(run.pid, SIGKILL)  // last resort; leftovers go to the host's init
                }
            }
            let openStreams = streams.indices.filter { streams[$0].isOpen }
            if let exitedAt, openStreams.isEmpty || now >= exitedAt + drainGrace { break }

            // Sleep until output, the end of the run, or the next deadline.
            var wake: Duration =
                if let exitedAt { exitedAt + drainGrace - now } else if killedAt != nil { tick } else {
                    deadline - now
                }
            if pidfd < 0 && exitedAt == nil { wake = min(wake, tick) }
            var fds = openStreams.map { pollfd(fd: streams[$0].fd, events: Int16(POLLIN), revents: 0) }
            if pidfd >= 0 && exitedAt == nil {
                fds.append(pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0))
            }
            let milliseconds = Int32(clamping: max(1, (wake / .milliseconds(1)).rounded(.up).clampedToInt))
            if poll(&fds, nfds_t(fds.count), milliseconds) < 0 && errno != EINTR && errno != EAGAIN {
                kill()  // cannot supervise: end the run rather than leave it unwatched
            }

            for (slot, index) in openStreams.enumerated() where fds[slot].revents != 0 {
                let exceeded = streams[index].drain(into: buffer, keep: limits.outputBytes)
                if exceeded && limits.killOnOutputLimit && killedAt == nil && exitedAt == nil {
                    report.outputExceeded = true
                    kill()
                }
            }
        }

        report.wallSeconds = Double(seconds: (exitedAt ?? clock.now) - started)
        report.stdout = streams[0].kept
        report.stderr = streams[1].kept
        report.stdoutTruncated = streams[0].total > streams[0].kept.count
        report.stderrTruncated = streams[1].total > streams[1].kept.count
        var exited: Int32 = 0
        var value: Int32 = 0
        var cpu = 0.0
        if csandbox_reap(run.pid, &exited, &value, &cpu) == 0 {
            report.status = exited != 0 ? .exited(value) : .signaled(value)
            report.cpuSeconds = cpu
        } else {
            report.status = .signaled(SIGKILL)  // reaped elsewhere (a SIGCHLD handler of the host)
        }
        return report
    }

    /// One output pipe: what was kept, how much came in total.
    private struct Stream {
        var fd: Int32
        var isOpen = true
        var kept = Data()
        var total = 0

        init(fd: Int32) { self.fd = fd }

        /// Reads until the pipe is empty or closed, or 16 buffers have been read (so that a
        /// program writing without pause cannot keep the loop from its deadlines). Returns
        /// whether the total passed `keep`.
        mutating func drain(into buffer: UnsafeMutableRawBufferPointer, keep: Int) -> Bool {
            for _ in 0..<16 {
                let n = read(fd, buffer.baseAddress, buffer.count)
                if n > 0 {
                    let room = max(0, keep - kept.count)
                    if room > 0 {
                        kept.append(
                            buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), count: min(n, room))
                    }
                    total += n
                    continue
                }
                if n < 0 && errno == EINTR { continue }
                if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { break }
                close(fd)  // end of file, or an error that will not go away
                isOpen = false
                break
            }
            return total > keep
        }
    }
}

extension Double {
    /// The value as an Int, saturating at Int's range (and 0 for NaN).
    fileprivate var clampedToInt: Int {
        guard !isNaN else { return 0 }
        return self >= Double(Int.max) ? Int.max : (self <= Double(Int.min) ? Int.min : Int(self))
    }
}

extension Double {
    /// Seconds in a Duration.
    init(seconds duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = Double(seconds) + Double(attoseconds) / 1e18
    }
}
