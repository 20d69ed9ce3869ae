// Command goaccept exercises the Go runtime's use of processes, threads
// and signals, and prints only deterministic results, so that its output
// natively and in the sandbox can be compared (test/runner TestGoProgram).
// It is built with CGO_ENABLED=0 at test time.
package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	goroutines()
	timers()
	signals()
	execs()
	listDir()
}

// goroutines: 100 goroutines in a pipeline over channels, and a mutex.
func goroutines() {
	const n = 100
	in := make(chan int)
	out := make(chan int, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[int]bool{}
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := range in {
				mu.Lock()
				seen[v] = true
				mu.Unlock()
				out <- v * v
			}
		}()
	}
	go func() {
		for i := 1; i <= 10000; i++ {
			in <- i
		}
		close(in)
	}()
	go func() {
		wg.Wait()
		close(out)
	}()
	sum := 0
	for v := range out {
		sum += v
	}
	fmt.Printf("goroutines: sum of squares 1..10000 = %d, distinct = %d\n", sum, len(seen))
}

// timers: a timer, a ticker, time.After in a select, and a stopped timer.
func timers() {
	start := time.Now()
	<-time.NewTimer(30 * time.Millisecond).C
	fmt.Println("timer fired after >= 30ms:", time.Since(start) >= 30*time.Millisecond)
	tk := time.NewTicker(10 * time.Millisecond)
	ticks := 0
	for range tk.C {
		if ticks++; ticks == 5 {
			break
		}
	}
	tk.Stop()
	fmt.Println("ticker ticks:", ticks)
	stopped := time.AfterFunc(time.Hour, func() { panic("stopped timer fired") })
	fmt.Println("stop pending timer:", stopped.Stop())
	done := make(chan bool)
	go func() { time.Sleep(20 * time.Millisecond); done <- true }()
	select {
	case <-done:
		fmt.Println("select: done before timeout")
	case <-time.After(5 * time.Second):
		fmt.Println("select: timeout")
	}
}

// signals: signal.Notify with a signal to ourselves, and Ignore/Reset.
func signals() {
	c := make(chan os.Signal, 4)
	signal.Notify(c, syscall.SIGUSR1, syscall.SIGUSR2)
	syscall.Kill(os.Getpid(), syscall.SIGUSR1)
	fmt.Println("notify:", <-c)
	syscall.Kill(os.Getpid(), syscall.SIGUSR2)
	fmt.Println("notify:", <-c)
	signal.Ignore(syscall.SIGHUP)
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	fmt.Println("ignored SIGHUP: still alive, ignored =", signal.Ignored(syscall.SIGHUP))
	signal.Stop(c)
	signal.Reset()
}

// execs: os/exec of /bin/echo, and of sh with stdin and stdout pipes and
// an exit status; a child killed by a signal.
func execs() {
	out, err := exec.Command("/bin/echo", "hello", "from echo").Output()
	fmt.Printf("echo: %q %v\n", out, err)

	cmd := exec.Command("/bin/sh", "-c", "tr a-z A-Z; echo err >&2; exit 3")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		fmt.Println("sh start:", err)
		return
	}
	go func() {
		for i := 0; i < 1000; i++ {
			fmt.Fprintf(stdin, "line %d\n", i)
		}
		stdin.Close()
	}()
	var got bytes.Buffer
	got.ReadFrom(stdout)
	err = cmd.Wait()
	lines := strings.Split(strings.TrimSpace(got.String()), "\n")
	fmt.Printf("sh: %d lines, last %q, stderr %q, err %v, exit code %d\n", len(lines), lines[len(lines)-1],
		stderr.String(), err, cmd.ProcessState.ExitCode())

	cmd = exec.Command("/bin/sleep", "100")
	cmd.Start()
	cmd.Process.Signal(syscall.SIGTERM)
	err = cmd.Wait()
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	fmt.Printf("sleep: %v, signaled %v by %v\n", err, ws.Signaled(), ws.Signal())

	err = exec.Command("/nonexistent/program").Run()
	fmt.Println("missing program:", err)
}

// listDir: a directory made and listed.
func listDir() {
	dir, err := os.MkdirTemp("", "goaccept")
	if err != nil {
		fmt.Println("mkdirtemp:", err)
		return
	}
	defer os.RemoveAll(dir)
	for _, name := range []string{"b", "a", "c.txt"} {
		os.WriteFile(filepath.Join(dir, name), []byte(name), 0o644)
	}
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	ents, err := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, fmt.Sprintf("%s(dir=%v)", e.Name(), e.IsDir()))
	}
	sort.Strings(names)
	fmt.Println("readdir:", strings.Join(names, " "), err)
	etc, _ := os.ReadDir("/etc")
	fmt.Println("/etc has passwd:", func() bool {
		for _, e := range etc {
			if e.Name() == "passwd" {
				return true
			}
		}
		return false
	}())
}
