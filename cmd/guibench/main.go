// Command guibench measures the kiosk app against a hello-world Fyne window
// built the same way, side by side in one virtual X server: resident memory
// (target ≤ 1.2× the hello-world's) and idle CPU while a QR and its
// countdown show (target ≤ the hello-world's + 0.5 percentage points).
//
//	go run ./cmd/guibench [-warmup 10s] [-measure 60s]
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of utime/stime in /proc/PID/stat (100 on
// every Linux this runs on).
const clockTicks = 100

func main() {
	warmup := flag.Duration("warmup", 10*time.Second, "time to settle after start before measuring")
	measure := flag.Duration("measure", 60*time.Second, "how long to measure idle CPU")
	flag.Parse()
	if err := run(*warmup, *measure); err != nil {
		fmt.Fprintln(os.Stderr, "guibench:", err)
		os.Exit(1)
	}
}

type proc struct {
	name   string
	cmd    *exec.Cmd
	out    bytes.Buffer  // its stdout and stderr, shown if it exits
	exited chan struct{} // closed when it has exited
}

func run(warmup, measure time.Duration) error {
	if runtime.GOOS != "linux" {
		return fmt.Errorf("reads /proc: Linux only")
	}
	xvfb, err := exec.LookPath("Xvfb")
	if err != nil {
		return fmt.Errorf("Xvfb is not installed (make deps installs it)")
	}
	dir, err := os.MkdirTemp("", "guibench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "bin")
	for _, b := range [][2]string{{"qrkiosk", "qrkiosk"}, {"hello", "qrkiosk/cmd/guibench/hello"}} {
		out, err := exec.Command("go", "build", "-o", filepath.Join(bin, b[0]), b[1]).CombinedOutput()
		if err != nil {
			return fmt.Errorf("build %s: %v\n%s", b[1], err, out)
		}
	}

	display, stopX, err := startXvfb(xvfb)
	if err != nil {
		return err
	}
	defer stopX()

	procs := []*proc{
		{name: "hello-world", cmd: exec.Command(filepath.Join(bin, "hello"))},
		// Not a target: what repainting a full-screen window once a second
		// costs any Fyne app here, the floor for a countdown.
		{name: "hello-world, full screen, label changing every second", cmd: exec.Command(filepath.Join(bin, "hello"), "-tick")},
		// Demo mode: the in-process simulator and relay count too.
		{name: "qrkiosk (dual, demo, QR + countdown showing)", cmd: exec.Command(filepath.Join(bin, "qrkiosk"), "--demo-charge", "12.34")},
		// One window, like the hello-world: shows what the second window costs.
		{name: "qrkiosk (single, demo, QR + countdown showing)", cmd: exec.Command(filepath.Join(bin, "qrkiosk"), "--layout", "single", "--demo-charge", "12.34")},
	}
	for i, p := range procs {
		// A home of its own each: two kiosks on one journal would refuse
		// each other, as they should.
		home := filepath.Join(dir, fmt.Sprintf("home%d", i))
		if err := os.MkdirAll(home, 0o700); err != nil {
			return err
		}
		p.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "XDG_CONFIG_HOME=" + home, "XDG_CACHE_HOME=" + home, "XDG_DATA_HOME=" + home, "DISPLAY=" + display}
		p.cmd.Dir = home
		p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
		if err := p.cmd.Start(); err != nil {
			return err
		}
		p.exited = make(chan struct{})
		go func() { p.cmd.Wait(); close(p.exited) }()
		defer func() {
			p.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.exited:
			case <-time.After(15 * time.Second):
				p.cmd.Process.Kill()
				<-p.exited
			}
		}()
	}
	// A process that has exited has no numbers to give: say so, with its
	// own words, rather than measure a zombie as zero.
	alive := func() error {
		for _, p := range procs {
			select {
			case <-p.exited:
				return fmt.Errorf("%s exited (%v); its output:\n%s", p.name, p.cmd.ProcessState, p.out.String())
			default:
			}
		}
		return nil
	}
	time.Sleep(warmup)
	if err := alive(); err != nil {
		return err
	}
	before := make([]int64, len(procs))
	for i, p := range procs {
		if before[i], err = cpuTicks(p.cmd.Process.Pid); err != nil {
			return fmt.Errorf("%s is not running: %v", p.name, err)
		}
	}
	start := time.Now()
	time.Sleep(measure)
	elapsed := time.Since(start).Seconds()
	if err := alive(); err != nil {
		return err
	}

	fmt.Printf("Xvfb 1920x1080x24, %s, %d CPUs, GOFLAGS=%q, warm-up %s, measured %s\n\n", runtime.GOARCH, runtime.NumCPU(), os.Getenv("GOFLAGS"), warmup, measure)
	fmt.Println("| process | RSS (MiB) | peak RSS (MiB) | idle CPU (% of one core) |")
	fmt.Println("|---|---:|---:|---:|")
	rss := make([]float64, len(procs))
	cpu := make([]float64, len(procs))
	for i, p := range procs {
		after, err := cpuTicks(p.cmd.Process.Pid)
		if err != nil {
			return fmt.Errorf("%s exited during the measurement", p.name)
		}
		cpu[i] = float64(after-before[i]) / clockTicks / elapsed * 100
		cur, peak, err := memory(p.cmd.Process.Pid)
		if err != nil {
			return err
		}
		rss[i] = cur
		fmt.Printf("| %s | %.1f | %.1f | %.2f |\n", p.name, cur, peak, cpu[i])
	}
	fmt.Println()
	for i := 2; i < len(procs); i++ {
		ratio, extra := rss[i]/rss[0], cpu[i]-cpu[0]
		fmt.Printf("%s: RSS %.2f× the hello-world's (target ≤ 1.20×): %s; idle CPU %+.2f points (target ≤ +0.50): %s\n",
			procs[i].name, ratio, verdict(ratio <= 1.2), extra, verdict(extra <= 0.5))
		fmt.Printf("    idle CPU %+.2f points over %s\n", cpu[i]-cpu[1], procs[1].name)
	}
	return nil
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

// cpuTicks is the process's user+system time in clock ticks.
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return u + s, nil
}

// memory is VmRSS and VmHWM in MiB.
func memory(pid int) (rss, peak float64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
		switch k {
		case "VmRSS":
			rss = kb / 1024
		case "VmHWM":
			peak = kb / 1024
		}
	}
	return rss, peak, sc.Err()
}

func startXvfb(xvfb string) (string, func(), error) {
	r, w, err := os.Pipe()
	if err != nil {
		return "", nil, err
	}
	x := exec.Command(xvfb, "-displayfd", "3", "-screen", "0", "1920x1080x24", "-nolisten", "tcp")
	x.ExtraFiles = []*os.File{w}
	if err := x.Start(); err != nil {
		return "", nil, err
	}
	w.Close()
	stop := func() { x.Process.Kill(); x.Wait() }
	line, _ := bufio.NewReader(r).ReadString('\n')
	if n := strings.TrimSpace(line); n != "" {
		return ":" + n, stop, nil
	}
	stop()
	return "", nil, fmt.Errorf("Xvfb did not start")
}
