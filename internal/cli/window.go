package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"runtime"
	"slices"
	"strings"

	"qrkiosk/internal/config"
	"qrkiosk/internal/ecr/terminal"
	"qrkiosk/internal/journal"
	"qrkiosk/internal/kiosk"
)

// ExitNoDisplay (EX_UNAVAILABLE): no display to open a window on.
const ExitNoDisplay = 69

// windowFlags are the window's flags.
type windowFlags struct {
	kiosk.WindowOptions
	demo        bool
	demoGateway string
	demoHost    string
}

func parseWindowFlags(args []string, env Env) (windowFlags, error) {
	var f windowFlags
	fs := flag.NewFlagSet("qrkiosk", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.StringVar(&f.Layout, "layout", "", `"dual" (cashier window + customer window) or "single" (one full-screen window, tablet kiosk); default from the config, else dual`)
	fs.BoolVar(&f.DisplayFullscreen, "display-fullscreen", false, "dual layout: make the customer window full screen, on the second monitor if there is one")
	fs.BoolVar(&f.Kiosk, "kiosk", false, "full screen; closing or quitting asks for the configured PIN")
	fs.BoolVar(&f.demo, "demo", false, "demo mode even when gateway credentials are configured")
	fs.StringVar(&f.demoGateway, "demo-gateway", "", "demo mode on this gateway's simulator: "+strings.Join(config.Gateways(), " or ")+" (default: the configured gateway)")
	fs.StringVar(&f.DemoCharge, "demo-charge", "", "demo mode: ring up this amount at start (for smoke tests, benchmarks and screenshots)")
	fs.StringVar(&f.demoHost, "demo-host", "", "demo mode: the address the simulator listens on (default: this machine's LAN address, so a phone can pay; 127.0.0.1 keeps it on this machine)")
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, "usage: qrkiosk [--data DIR] [--layout dual|single] [--display-fullscreen] [--kiosk] [--demo] [--demo-gateway "+strings.Join(config.Gateways(), "|")+"] [--demo-charge AMOUNT] [--demo-host ADDR]")
		fmt.Fprintln(env.Stderr, "  --data DIR: the journal's directory (default $"+journal.EnvData+", else $XDG_DATA_HOME/qrkiosk); demo mode uses its demo/ subdirectory")
		fs.PrintDefaults()
		fmt.Fprintln(env.Stderr, "\n"+Usage)
	}
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if f.demoHost != "" && net.ParseIP(f.demoHost) == nil {
		return f, fmt.Errorf("--demo-host %q: must be an IP address of this machine, such as 127.0.0.1", f.demoHost)
	}
	if f.demoGateway != "" {
		f.demoGateway = strings.ToLower(f.demoGateway)
		if !slices.Contains(config.Gateways(), f.demoGateway) {
			return f, fmt.Errorf("--demo-gateway %q: must be %s", f.demoGateway, strings.Join(config.Gateways(), " or "))
		}
		f.demo = true
	}
	if f.Layout != "" {
		f.Layout = strings.ToLower(f.Layout)
		if f.Layout != config.LayoutDual && f.Layout != config.LayoutSingle {
			return f, fmt.Errorf("--layout %q: must be dual or single", f.Layout)
		}
	}
	return f, nil
}

// noDisplay explains how to run without a desktop, or "" when a display
// is there (or the platform does not use X11/Wayland).
func noDisplay(getenv func(string) string) string {
	switch runtime.GOOS {
	case "windows", "darwin", "android", "ios", "js":
		return ""
	}
	if getenv("DISPLAY") != "" || getenv("WAYLAND_DISPLAY") != "" {
		return ""
	}
	return `qrkiosk: no display (neither DISPLAY nor WAYLAND_DISPLAY is set), so no window can open.
Run it on the kiosk's desktop, or in a virtual X server:
    xvfb-run -a ./bin/qrkiosk
or
    Xvfb :99 -screen 0 1920x1080x24 &  DISPLAY=:99 ./bin/qrkiosk
Subcommands that open no window still work here: qrkiosk charge, qrkiosk config check.`
}

// openWindow checks the window's flags and the display, assembles the
// kiosk (demo mode without credentials) and opens the window.
func openWindow(ctx context.Context, env Env, args []string, dataDir string, window Window) int {
	f, err := parseWindowFlags(args, env)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(env.Stderr, "qrkiosk:", err)
		return ExitUsage
	}
	if window == nil {
		fmt.Fprintln(env.Stderr, "qrkiosk: this build has no window; use a subcommand\n"+Usage)
		return ExitUsage
	}
	if msg := noDisplay(env.Getenv); msg != "" {
		fmt.Fprintln(env.Stderr, msg)
		return ExitNoDisplay
	}
	opts := kiosk.Options{DataDir: dataDir, Getenv: env.Getenv, Logger: env.Logger(), DemoIfUnconfigured: true, ForceDemo: f.demo, DemoGateway: f.demoGateway, DemoHost: f.demoHost}
	// The POS endpoint follows the kiosk: a kiosk the setup page reopens
	// on new settings answers the POS on them.
	opts.Serve = func(k *kiosk.Kiosk) func() {
		if term := serveECR(env, k); term != nil {
			return term.Close
		}
		return nil
	}
	s, err := kiosk.LoadSettings(opts)
	if err == nil {
		err = checkWindow(f, s)
	}
	var probs config.Problems
	switch {
	case errors.As(err, &probs):
		fmt.Fprintf(env.Stderr, "qrkiosk: the configuration is not valid (qrkiosk config check says more):\n%v\n", err)
		return ExitUsage
	case err != nil:
		fmt.Fprintln(env.Stderr, "qrkiosk:", err)
		return ExitUsage
	}
	k, code := openKiosk(env, "qrkiosk", s, opts)
	if k == nil {
		return code
	}
	defer k.Close()
	if f.Layout == "" {
		f.Layout = k.Config.Layout
	}
	// The window ends on SIGINT/SIGTERM as on its own close: a live order
	// is withdrawn first.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-env.Signals:
			cancel()
		case <-wctx.Done():
		}
	}()
	return window(wctx, k, f.WindowOptions)
}

// checkWindow refuses flag combinations the settings cannot honour.
func checkWindow(f windowFlags, s kiosk.Settings) error { return f.WindowOptions.Check(s) }

// serveECR answers the shop's POS when [ecr] is on (the demo: always). A
// POS endpoint that cannot start is logged; the kiosk runs on. The till
// takes no POS sale until the window's start-up recovery releases it.
func serveECR(env Env, k *kiosk.Kiosk) *terminal.Terminal {
	if !k.Config.ECR.On() {
		return nil
	}
	k.Till.Hold("the kiosk is starting")
	term, err := terminal.Serve(k, terminal.Options{})
	if err != nil {
		env.Logger().Error("ecr: the POS endpoint is not running", "err", err)
		k.Till.Release()
		return nil
	}
	if k.Demo != nil && k.Config.ECR.POSKey == kiosk.DemoPOSKey {
		env.Logger().Info("demo: a POS can drive this kiosk", "try", "qrkiosk ecr send --to "+k.LAN().URL()+" --pos-key "+kiosk.DemoPOSKey+" --amount 12.34")
	}
	return term
}
