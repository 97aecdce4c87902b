package webdisplay_test

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"qrkiosk/internal/chromiumtest"
	"qrkiosk/internal/webdisplay"
	"qrkiosk/internal/webdisplay/displaytest"
)

var (
	cpuWarmup  = flag.Duration("cpu.warmup", 10*time.Second, "BenchmarkDisplayCPU: settling time before each measurement")
	cpuMeasure = flag.Duration("cpu.measure", 60*time.Second, "BenchmarkDisplayCPU: how long each state is measured")
)

// BenchmarkDisplayCPU measures, in one run on this machine, the CPU of the
// browser display in headless Chromium (every process of the browser) and
// of the Fyne customer screen alone in a full-screen window on its own
// 1280×800 Xvfb (cmd/guibench/screen; its X server apart), both at
// 1280×800, first on the welcome, then with a QR counting down. Run it
// alone: go test ./internal/webdisplay/ -run '^$' -bench DisplayCPU
// -benchtime 1x (about 3 minutes; -cpu.measure and -cpu.warmup change it).
func BenchmarkDisplayCPU(b *testing.B) {
	xvfb, err := exec.LookPath("Xvfb")
	if err != nil {
		b.Skip("Xvfb is not installed")
	}
	bin := filepath.Join(b.TempDir(), "screen")
	if out, err := exec.Command("go", "build", "-o", bin, "qrkiosk/cmd/guibench/screen").CombinedOutput(); err != nil {
		b.Fatalf("building the Fyne screen: %v\n%s", err, out)
	}
	d := open(b, b.TempDir(), webdisplay.Config{})
	k := displaytest.Serve(b, d, displaytest.Options{})
	tab := displaytest.NewTablet(b, k, chromiumtest.Viewport{Width: 1280, Height: 800, Scale: 1})
	code, _ := d.NewCode()
	tab.Pair(code)

	for b.Loop() {
		b.Logf("| state | browser display (headless Chromium, %%) | Fyne customer screen (%%) | its Xvfb (%%) | the kiosk's hub (this process, %%) |")
		b.Logf("|---|---:|---:|---:|---:|")
		for _, state := range []string{"welcome", "countdown"} {
			snap := order(b, "alipayhk")
			snap.Deadline = snap.Created.Add(30 * time.Minute)
			args := []string{}
			if state == "countdown" {
				d.Show(snap)
				args = append(args, "-countdown")
			} else {
				d.Idle()
			}
			display, stopX := startXvfb(b, xvfb)
			fy := exec.Command(bin, args...)
			home := b.TempDir()
			fy.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "XDG_CONFIG_HOME=" + home, "XDG_CACHE_HOME=" + home, "DISPLAY=" + display}
			var out bytes.Buffer
			fy.Stdout, fy.Stderr = &out, &out
			if err := fy.Start(); err != nil {
				b.Fatal(err)
			}
			time.Sleep(*cpuWarmup)
			if fy.ProcessState != nil {
				b.Fatalf("the Fyne screen exited: %s", out.String())
			}
			chromium := func() int64 { return ticksOf(processesUsing(tab.Browser.Home)) }
			page0, fyne0, x0, self0 := chromium(), ticksOf([]int{fy.Process.Pid}), ticksOf([]int{stopX.Process.Pid}), ticksOf([]int{os.Getpid()})
			start := time.Now()
			time.Sleep(*cpuMeasure)
			secs := time.Since(start).Seconds()
			pct := func(t0, t1 int64) float64 { return float64(t1-t0) / 100 / secs * 100 }
			page, fyn, x, self := pct(page0, chromium()), pct(fyne0, ticksOf([]int{fy.Process.Pid})), pct(x0, ticksOf([]int{stopX.Process.Pid})), pct(self0, ticksOf([]int{os.Getpid()}))
			b.Logf("| %s | %.2f | %.2f | %.2f | %.2f |", state, page, fyn, x, self)
			b.ReportMetric(page, state+"-page-cpu%")
			b.ReportMetric(fyn, state+"-fyne-cpu%")
			b.ReportMetric(x, state+"-fyne-xvfb-cpu%")
			if s := tab.State(); s.Link != "live" || (state == "countdown") != s.QR {
				b.Errorf("%s: the page was %+v", state, s)
			}
			fy.Process.Kill()
			fy.Wait()
			stopX.Process.Kill()
			stopX.Wait()
		}
	}
}

// startXvfb starts an X server of its own (1280×800) and returns its
// display.
func startXvfb(b *testing.B, xvfb string) (string, *exec.Cmd) {
	r, w, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	x := exec.Command(xvfb, "-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp")
	x.ExtraFiles = []*os.File{w}
	if err := x.Start(); err != nil {
		b.Fatal(err)
	}
	w.Close()
	line, _ := bufio.NewReader(r).ReadString('\n')
	if n := strings.TrimSpace(line); n != "" {
		return ":" + n, x
	}
	x.Process.Kill()
	x.Wait()
	b.Fatal("Xvfb did not start")
	return "", nil
}

// processesUsing is the processes whose command line mentions dir (a
// Chromium's profile: all its processes).
func processesUsing(dir string) []int {
	var pids []int
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range cmdlines {
		b, err := os.ReadFile(f)
		if err != nil || !bytes.Contains(b, []byte(dir)) {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(f))); err == nil && pid != os.Getpid() {
			pids = append(pids, pid)
		}
	}
	return pids
}

// ticksOf is the user and system CPU of the processes, in clock ticks
// (USER_HZ, 100).
func ticksOf(pids []int) int64 {
	var sum int64
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
		for _, i := range []int{11, 12} { // utime, stime
			v, _ := strconv.ParseInt(f[i], 10, 64)
			sum += v
		}
	}
	return sum
}
