import Foundation
import VigilSystem
#if canImport(Glibc)
import Glibc
#endif

/// What the fence does when its deadline passes: PostgreSQL on the data directory stops at
/// once, backends included, whatever state its agent is in.
enum FenceStop {
    /// The running postmaster of `dataDirectory` (postmaster.pid's first line, checked against
    /// the process's own arguments, so a reused pid is never signalled), or nil.
    static func postmaster(of dataDirectory: String) -> pid_t? {
        let file = (dataDirectory as NSString).appendingPathComponent("postmaster.pid")
        guard let text = try? String(contentsOfFile: file, encoding: .utf8),
              let first = text.split(separator: "\n").first, let pid = pid_t(first.trimmingCharacters(in: .whitespaces)),
              pid > 0, !ProcessTable.isGone(pid) else { return nil }
        let arguments = ProcessTable.arguments(of: pid)
        guard arguments.first?.hasSuffix("postgres") == true, arguments.contains(dataDirectory) else { return nil }
        return pid
    }

    /// Stops the postmaster `pid` and every process it started: an immediate stop (SIGQUIT, to
    /// the backends as well, so none waits on a postmaster that is itself stuck), and half a
    /// second later SIGKILL for whatever is left. The postmaster is held (SIGSTOP) while its
    /// children are listed, so it forks nothing in between. Returns whether all are gone.
    @discardableResult
    static func stop(_ pid: pid_t) -> Bool {
        kill(pid, SIGSTOP)
        var processes = [pid] + ProcessTable.children(of: pid)
        for process in processes { kill(process, SIGQUIT) }
        kill(pid, SIGCONT)
        if waitGone(processes, within: .milliseconds(500)) { return true }
        kill(pid, SIGSTOP)
        processes += ProcessTable.children(of: pid).filter { !processes.contains($0) }
        for process in processes { kill(process, SIGKILL) }
        return waitGone(processes, within: .seconds(5))
    }

    static func waitGone(_ processes: [pid_t], within budget: Duration) -> Bool {
        let deadline = ContinuousClock.now + budget
        while true {
            if processes.allSatisfy(ProcessTable.isGone) { return true }
            if ContinuousClock.now >= deadline { return false }
            usleep(10_000)
        }
    }
}
