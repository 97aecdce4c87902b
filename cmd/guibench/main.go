// Command guibench measures the kiosk app while a QR and its countdown
// show, against Chromium in kiosk mode showing an equivalent page (the QR
// image, the amount, a countdown and a bar that change every second) and
// against hello-world Fyne windows built the same way as the kiosk. All
// run at once, each on its own 1920×1080 Xvfb (software OpenGL, no GPU,
// no window manager), so they are measured in one run on the same machine
// at the same time. For each it reads, over the measurement, the CPU of
// its whole process tree (Chromium is several processes) and at the end
// the proportional set size (PSS: shared pages split among the processes
// that share them) of that tree, and the CPU of its X server.
//
// Targets (issue 13): the kiosk's CPU ≤ the browser's, its PSS ≤ half
// the browser's.
//
//	go run ./cmd/guibench [-warmup 15s] [-measure 60s] [-chromium /usr/bin/chromium]
package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"flag"
	"fmt"
	"html/template"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"qrkiosk/display"
)

// clockTicks is USER_HZ, the unit of utime/stime in /proc/PID/stat (100 on
// every Linux this runs on).
const clockTicks = 100

func main() {
	warmup := flag.Duration("warmup", 15*time.Second, "time to settle after start before measuring")
	measure := flag.Duration("measure", 60*time.Second, "how long to measure idle CPU")
	chromium := flag.String("chromium", "/usr/bin/chromium", "the browser to compare with (Debian's chromium package)")
	flag.Parse()
	if err := run(*warmup, *measure, *chromium); err != nil {
		fmt.Fprintln(os.Stderr, "guibench:", err)
		os.Exit(1)
	}
}

type proc struct {
	name    string
	cmd     *exec.Cmd
	display string
	xvfb    *exec.Cmd
	out     bytes.Buffer  // its stdout and stderr, shown if it exits
	exited  chan struct{} // closed when it has exited
	target  bool          // a kiosk the targets apply to
	browser bool
}

func run(warmup, measure time.Duration, chromium string) error {
	if runtime.GOOS != "linux" {
		return fmt.Errorf("reads /proc: Linux only")
	}
	xvfb, err := exec.LookPath("Xvfb")
	if err != nil {
		return fmt.Errorf("Xvfb is not installed (make deps installs it)")
	}
	if _, err := os.Stat(chromium); err != nil {
		return fmt.Errorf("%s: %v (make bench installs Debian's chromium)", chromium, err)
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
	page := filepath.Join(dir, "page.html")
	if err := writePage(page); err != nil {
		return err
	}
	kiosk := func(args ...string) *exec.Cmd {
		// The demo's simulator on loopback: nothing leaves this machine.
		return exec.Command(filepath.Join(bin, "qrkiosk"), append([]string{"--demo-host", "127.0.0.1", "--demo-charge", "12.34"}, args...)...)
	}
	procs := []*proc{
		{name: "hello-world (one small window)", cmd: exec.Command(filepath.Join(bin, "hello"))},
		// Not a target: what repainting a full-screen window once a second
		// costs any Fyne app here, the floor for a countdown.
		{name: "hello-world, full screen, label changing every second", cmd: exec.Command(filepath.Join(bin, "hello"), "-tick")},
		// Demo mode: the in-process simulator and relay count too.
		{name: "qrkiosk single (one full-screen window)", cmd: kiosk("--layout", "single"), target: true},
		{name: "qrkiosk dual (cashier 1180×860 + customer full screen)", cmd: kiosk("--display-fullscreen"), target: true},
		{name: "Chromium --kiosk, equivalent page", browser: true, cmd: exec.Command(chromium,
			// The flags this machine needs (no sandbox as root, no GPU, no
			// network) and a profile of its own, then kiosk mode.
			"--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
			"--disable-component-update", "--disable-sync", "--user-data-dir="+filepath.Join(dir, "chromium-profile"),
			// With no window manager to make it full screen, kiosk mode
			// keeps its default window: say the screen's size.
			"--window-position=0,0", "--window-size=1920,1080", "--kiosk", "file://"+page)},
	}
	for i, p := range procs {
		// A home and an X server of its own each: two kiosks on one
		// journal would refuse each other, and windows on one screen
		// would cover each other.
		home := filepath.Join(dir, fmt.Sprintf("home%d", i))
		if err := os.MkdirAll(home, 0o700); err != nil {
			return err
		}
		p.display, p.xvfb, err = startXvfb(xvfb)
		if err != nil {
			return err
		}
		defer func() { p.xvfb.Process.Kill(); p.xvfb.Wait() }()
		p.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "XDG_CONFIG_HOME=" + home, "XDG_CACHE_HOME=" + home, "XDG_DATA_HOME=" + home, "DISPLAY=" + p.display,
			"QRKIOSK_ECR_LISTEN=127.0.0.1:0"} // the demo answers a POS: on this machine only
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
	xBefore := make([]int64, len(procs))
	for i, p := range procs {
		before[i] = treeTicks(p.cmd.Process.Pid)
		xBefore[i], _ = cpuTicks(p.xvfb.Process.Pid)
	}
	start := time.Now()
	time.Sleep(measure)
	elapsed := time.Since(start).Seconds()
	if err := alive(); err != nil {
		return err
	}

	fmt.Printf("Each on its own Xvfb 1920x1080x24 (Mesa llvmpipe, no window manager), %s, %d CPUs, GOFLAGS=%q, warm-up %s, measured %s, %s\n\n",
		runtime.GOARCH, runtime.NumCPU(), os.Getenv("GOFLAGS"), warmup, measure, time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Println("| process | processes | PSS (MiB) | CPU (% of one core) | its Xvfb's CPU (%) |")
	fmt.Println("|---|---:|---:|---:|---:|")
	cpu := make([]float64, len(procs))
	pss := make([]float64, len(procs))
	var browser int
	for i, p := range procs {
		cpu[i] = float64(treeTicks(p.cmd.Process.Pid)-before[i]) / clockTicks / elapsed * 100
		x, _ := cpuTicks(p.xvfb.Process.Pid)
		xcpu := float64(x-xBefore[i]) / clockTicks / elapsed * 100
		var n int
		pss[i], n = treePSS(p.cmd.Process.Pid)
		if p.browser {
			browser = i
		}
		fmt.Printf("| %s | %d | %.1f | %.2f | %.2f |\n", p.name, n, pss[i], cpu[i], xcpu)
	}
	fmt.Println()
	for i, p := range procs {
		if !p.target {
			continue
		}
		fmt.Printf("%s: CPU %.2f%% vs the browser's %.2f%% (target ≤): %s; PSS %.1f MiB vs half the browser's %.1f MiB (target ≤): %s\n",
			p.name, cpu[i], cpu[browser], verdict(cpu[i] <= cpu[browser]), pss[i], pss[browser]/2, verdict(pss[i] <= pss[browser]/2))
	}
	return nil
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

// writePage writes the browser's equivalent of the kiosk's QR screen: the
// same QR image (1,000 px, drawn by the kiosk's own code), the amount,
// the wallet, and a countdown with a bar that change every second.
func writePage(path string) error {
	img, err := display.QRImage("http://127.0.0.1:8080/sim/pay/20261126001795704705855773", 1000)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return err
	}
	t := template.Must(template.New("page").Parse(pageHTML))
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return t.Execute(f, template.URL("data:image/png;base64,"+base64.StdEncoding.EncodeToString(b.Bytes())))
}

const pageHTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>Scan to pay</title><style>
html,body{margin:0;height:100%;background:#fff;color:#1a1a1a;font-family:sans-serif;overflow:hidden}
.page{display:flex;height:100%}
.info{flex:1;display:flex;flex-direction:column;justify-content:center;align-items:center;gap:.3em}
.head{color:#00695c;font-size:56px;font-weight:bold}.zh{color:#00695c;font-size:44px}
.label{color:#5f6368;font-size:32px;margin-top:1em}.amount{font-size:110px;font-weight:bold}
.wallet{font-size:48px;font-weight:bold;margin-top:.5em}
.qr{width:1000px;display:flex;flex-direction:column;justify-content:center;padding:20px}
.qr img{width:1000px;height:1000px;image-rendering:pixelated}
.row{display:flex;justify-content:space-between;align-items:center;width:860px;margin:0 70px}
.left{color:#5f6368;font-size:28px}.clock{font-size:64px;font-weight:bold}
.track{height:14px;border-radius:7px;background:#dde1e3;width:860px;margin:0 70px}.bar{height:14px;border-radius:7px;background:#00695c}
</style></head><body><div class="page">
<div class="info"><div class="head">Scan to pay</div><div class="zh">請掃碼付款</div><div class="zh">请扫码付款</div>
<div class="label">Amount 金額 金额</div><div class="amount">HK$12.34</div><div class="wallet">Alipay HK</div><div class="zh">支付寶香港</div></div>
<div class="qr"><img src="{{.}}" alt="QR code"><div class="row"><div class="left">Expires in<br>剩餘時間 剩余时间</div><div class="clock" id="clock">30:00</div></div>
<div class="track"><div class="bar" id="bar" style="width:100%"></div></div></div></div>
<script>
const total = 30 * 60, end = Date.now() + total * 1000;
function tick() {
  const left = Math.max(0, Math.ceil((end - Date.now()) / 1000));
  document.getElementById("clock").textContent = String(Math.floor(left / 60)).padStart(2, "0") + ":" + String(left % 60).padStart(2, "0");
  document.getElementById("bar").style.width = (100 * left / total) + "%";
  if (left > 0) setTimeout(tick, (end - Date.now()) % 1000 + 5);
}
tick();
</script></body></html>
`

// tree is pid and every process descended from it.
func tree(pid int) []int {
	parents := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
		if len(f) > 1 {
			ppid, _ := strconv.Atoi(f[1])
			parents[ppid] = append(parents[ppid], child)
		}
	}
	out := []int{pid}
	for i := 0; i < len(out); i++ {
		out = append(out, parents[out[i]]...)
	}
	return out
}

// treeTicks is the user+system CPU of pid's process tree, in clock ticks,
// counting the children that have exited and been waited for.
func treeTicks(pid int) int64 {
	var sum int64
	for _, p := range tree(pid) {
		t, _ := cpuTicks(p)
		sum += t
	}
	return sum
}

// cpuTicks is the process's user+system time (and its waited-for
// children's) in clock ticks.
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	if len(f) < 15 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	var sum int64
	for _, i := range []int{11, 12, 13, 14} { // utime, stime, cutime, cstime
		v, _ := strconv.ParseInt(f[i], 10, 64)
		sum += v
	}
	return sum, nil
}

// treePSS is the PSS of pid's process tree in MiB, and how many processes
// it has.
func treePSS(pid int) (float64, int) {
	var kb float64
	procs := tree(pid)
	for _, p := range procs {
		f, err := os.Open(fmt.Sprintf("/proc/%d/smaps_rollup", p))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && k == "Pss" {
				n, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
				kb += n
			}
		}
		f.Close()
	}
	return kb / 1024, len(procs)
}

func startXvfb(xvfb string) (string, *exec.Cmd, error) {
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
	line, _ := bufio.NewReader(r).ReadString('\n')
	if n := strings.TrimSpace(line); n != "" {
		return ":" + n, x, nil
	}
	x.Process.Kill()
	x.Wait()
	return "", nil, fmt.Errorf("Xvfb did not start")
}
