"""Exercises processes, threads and signals from Python and prints only
deterministic results, so that its output natively and in the sandbox can
be compared (test/runner TestPythonProgram)."""
import concurrent.futures
import os
import signal
import subprocess
import sys
import time


def subprocess_pipes():
    r = subprocess.run(["/bin/sh", "-c", "tr a-z A-Z; echo to-stderr >&2; exit 4"],
                       input=b"hello pipes\n", capture_output=True)
    print("run:", r.stdout, r.stderr, r.returncode)
    out = subprocess.check_output(["/bin/echo", "checked"])
    print("check_output:", out)
    try:
        subprocess.run(["/bin/sleep", "10"], timeout=0.2)
    except subprocess.TimeoutExpired as e:
        print("timeout expired:", type(e).__name__)


def pipeline():
    # seq 1 5000 | sort -rn | head -n 3, with Popen objects chained.
    p1 = subprocess.Popen(["seq", "1", "5000"], stdout=subprocess.PIPE)
    p2 = subprocess.Popen(["sort", "-rn"], stdin=p1.stdout, stdout=subprocess.PIPE)
    p1.stdout.close()
    out, _ = p2.communicate()
    print("pipeline:", out.split()[:3], p1.wait(), p2.returncode)


def thread_pool():
    def work(n):
        time.sleep(0.01)
        return sum(i * i for i in range(n))
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as ex:
        results = list(ex.map(work, range(100)))
    print("thread pool:", len(results), sum(results))


def itimer():
    fired = []
    signal.signal(signal.SIGALRM, lambda s, f: fired.append(s))
    signal.setitimer(signal.ITIMER_REAL, 0.02, 0.02)
    deadline = time.monotonic() + 10
    while len(fired) < 5 and time.monotonic() < deadline:
        time.sleep(0.005)
    signal.setitimer(signal.ITIMER_REAL, 0)
    print("setitimer handler ran >= 5 times:", len(fired) >= 5, signal.Signals(fired[0]).name)
    signal.signal(signal.SIGALRM, signal.SIG_DFL)


def fork_wait():
    pids = []
    for code in (0, 3, 7):
        pid = os.fork()
        if pid == 0:
            os._exit(code)
        pids.append(pid)
    statuses = sorted(os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in pids)
    print("fork/waitpid exit codes:", statuses)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.write(w, b"child pid ok" if os.getppid() != os.getpid() else b"?")
        os._exit(0)
    os.close(w)
    print("fork pipe:", os.read(r, 100))
    os.close(r)
    os.waitpid(pid, 0)


def big_pipe():
    data = bytes(i % 251 for i in range(100 * 1024))
    r = subprocess.run(["cat"], input=data, stdout=subprocess.PIPE)
    print("100 KB through cat:", len(r.stdout), r.stdout == data)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        with os.fdopen(w, "wb") as f:
            f.write(data)
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        got = f.read()
    os.waitpid(pid, 0)
    print("100 KB through a pipe from a child:", len(got), got == data)


def sigterm_child():
    # The second child sleeps in short steps: a SIGTERM that arrives just
    # before a sleep starts runs the Python-level handler only after it.
    p = subprocess.Popen(["/bin/sleep", "100"])
    p.send_signal(signal.SIGTERM)
    print("SIGTERM to sleep:", p.wait())
    p = subprocess.Popen([sys.executable, "-c",
                          "import signal,sys,time\n"
                          "signal.signal(signal.SIGTERM, lambda s,f: sys.exit(42))\n"
                          "print('ready', flush=True)\n"
                          "while True: time.sleep(0.05)\n"], stdout=subprocess.PIPE)
    p.stdout.readline()
    p.terminate()
    print("SIGTERM to a python child with a handler:", p.wait())


subprocess_pipes()
pipeline()
thread_pool()
itimer()
fork_wait()
big_pipe()
sigterm_child()
