/**
 * The sandbox container's PID 1: it starts the runner as the sandbox user, forwards the
 * signals the worker sends (SIGINT interrupts a cell), reaps orphans as an init must, and
 * after the container's hard lifetime kills every process of the sandbox, whatever they do.
 *
 * It starts as root with only CAP_SETUID and CAP_SETGID, and gives both up at once: the
 * runner becomes 1000:1000 with no capabilities, and PID 1 itself ends with real and saved
 * uid 65534 and effective uid 1000. The kernel lets a process signal another only when the
 * sender's real or effective uid is the target's real or saved uid, so PID 1 may still signal
 * the runner, while user code (1000 in every slot) can neither signal PID 1 (not even SIGSTOP,
 * under runc or gVisor) nor trace it nor open its /proc files: the change of uids made it
 * non-dumpable. Stdin and stdout are closed here, so the protocol is not held by PID 1.
 *
 * Python because the image has it and nothing smaller that can change uids; it costs about
 * 3.5 MB of anonymous memory per sandbox. Argument 1 is the lifetime in seconds, the rest
 * is the command (the image's runner, or a test's command).
 */
const SOURCE = String.raw`
import os, signal, sys
SANDBOX_ID, NOBODY = 1000, 65534
lifetime_s, command = float(sys.argv[1]), sys.argv[2:]
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)

def forward(signum, _frame):
    try:
        os.kill(child, signum)
    except OSError:
        pass

def kill_all_and_exit(code):
    try:
        os.kill(-1, signal.SIGKILL)
    except OSError:
        pass
    os._exit(code)

def expire(_signum, _frame):
    os.write(2, b"sandbot-init: the sandbox reached its maximum lifetime; ending it\n")
    kill_all_and_exit(137)

for s in FORWARDED:
    signal.signal(s, forward)
signal.signal(signal.SIGALRM, expire)
signal.setitimer(signal.ITIMER_REAL, lifetime_s)
child = os.fork()
if child == 0:
    signal.setitimer(signal.ITIMER_REAL, 0)
    for s in FORWARDED + (signal.SIGALRM, signal.SIGPIPE, signal.SIGXFSZ):
        signal.signal(s, signal.SIG_DFL)
    os.setgroups([])
    os.setresgid(SANDBOX_ID, SANDBOX_ID, SANDBOX_ID)
    os.setresuid(SANDBOX_ID, SANDBOX_ID, SANDBOX_ID)
    os.execvp(command[0], command)
os.setgroups([])
os.setresgid(NOBODY, NOBODY, NOBODY)
os.setresuid(NOBODY, SANDBOX_ID, NOBODY)
null = os.open("/dev/null", os.O_RDWR)
os.dup2(null, 0)
os.dup2(null, 1)
while True:
    try:
        pid, status = os.wait()
    except ChildProcessError:
        kill_all_and_exit(0)
    if pid == child:
        code = os.waitstatus_to_exitcode(status)
        kill_all_and_exit(code if code >= 0 else 128 - code)
`;

/** The container's entrypoint: PID 1 above, ending everything after `lifetimeS` seconds. */
export function lifetimeInitEntrypoint(lifetimeS: number): string[] {
  return ['python3', '-I', '-S', '-c', SOURCE, String(lifetimeS)];
}
