package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"qrkiosk/internal/config"
	"qrkiosk/internal/probe"
	"qrkiosk/internal/setup"
)

// SetupUsage is the help of `qrkiosk setup`.
const SetupUsage = `usage: qrkiosk setup
  Asks for the settings on stdin, section by section (the setup page's
  questions), tests the gateway, the relay and the printer as each is
  answered, and writes config.toml (QRKIOSK_CONFIG, else the user's) as the
  setup page does: checked as config check reads it, 0600, the previous
  version kept as config.toml.bak. Enter keeps the value in brackets (for
  a key or a token: the one set); "-" empties a setting that may be empty.
  A script can answer on stdin: a refused answer then stops it (exit 64)
  and nothing is written; input that ends early writes nothing (exit 1).`

// errInputEnded: stdin ended before the questions did.
var errInputEnded = errors.New("the input ended before every question was answered; nothing was saved")

// asker asks the questions on a terminal or a script's stdin.
type asker struct {
	in    *bufio.Reader
	out   io.Writer
	tty   int // the terminal's descriptor, -1 for a script
	file  config.File
	logo  *setup.Logo
	path  string
	probe probe.Options
	// getenv is the kiosk's environment, which overrides the file.
	getenv func(string) string
}

// SetupCmd runs `qrkiosk setup`.
func SetupCmd(ctx context.Context, env Env, args []string) int {
	return runSetup(ctx, env, args, probe.Options{})
}

func runSetup(ctx context.Context, env Env, args []string, o probe.Options) int {
	if len(args) > 0 {
		fmt.Fprintln(env.Stderr, SetupUsage)
		return ExitUsage
	}
	path, _, err := config.DefaultPath(env.Getenv)
	if err != nil {
		fmt.Fprintln(env.Stderr, "qrkiosk setup:", err)
		return ExitUsage
	}
	f, err := config.ReadFile(path)
	if err != nil {
		fmt.Fprintf(env.Stderr, "qrkiosk setup: %v\nFix or move the file first (qrkiosk config check).\n", err)
		return ExitUsage
	}
	in := env.Stdin
	if in == nil {
		in = strings.NewReader("")
	}
	a := &asker{in: bufio.NewReader(in), out: env.Stdout, tty: ttyFD(in), file: f, path: path, probe: o, getenv: env.Getenv}
	fmt.Fprintf(a.out, "Settings of %s\nEnter keeps the value in [brackets]; \"-\" empties a setting that may be empty.\n", path)
	for _, sec := range setup.Sections() {
		if err := a.section(ctx, sec); err != nil {
			return a.stop(env, err)
		}
	}
	c, _, err := config.Check(path, a.file, env.Getenv)
	if err != nil {
		fmt.Fprintf(env.Stderr, "qrkiosk setup: these settings are refused; nothing was saved:\n%v\n", err)
		return ExitUsage
	}
	if ok, err := a.yes(fmt.Sprintf("Save to %s?", path), true); err != nil {
		return a.stop(env, err)
	} else if !ok {
		fmt.Fprintln(a.out, "Not saved.")
		return ExitFailed
	}
	_, statErr := os.Stat(path)
	if c, err = setup.Save(path, a.file, a.logo, env.Getenv); err != nil {
		fmt.Fprintf(env.Stderr, "qrkiosk setup: not saved, the old settings stay in force: %v\n", err)
		return ExitIOErr
	}
	for _, w := range c.Warnings {
		fmt.Fprintln(a.out, "WARNING:", w)
	}
	if statErr == nil {
		fmt.Fprintf(a.out, "Saved. The previous version is %s%s.\n", path, config.BackupSuffix)
	} else {
		fmt.Fprintln(a.out, "Saved.")
	}
	if c.Demo() {
		fmt.Fprintln(a.out, "No gateway credentials yet: the kiosk stays in demo mode.")
	}
	fmt.Fprintln(a.out, "A kiosk already running uses them after: sudo systemctl restart qrkiosk (its setup page applies them at once).")
	return 0
}

// stop ends the command on an answer that cannot go on.
func (a *asker) stop(env Env, err error) int {
	fmt.Fprintln(env.Stderr, "qrkiosk setup:", err)
	if errors.Is(err, errInputEnded) {
		return ExitFailed
	}
	return ExitUsage
}

// section asks a section's questions, then proves it; a failed test asks
// whether to answer the section again.
func (a *asker) section(ctx context.Context, sec setup.Section) error {
	var fields []setup.Field
	for _, f := range setup.Fields() {
		if f.Section == sec.ID {
			fields = append(fields, f)
		}
	}
	if len(fields) == 0 {
		return nil
	}
	fmt.Fprintf(a.out, "\n== %s (%s) ==\n%s\n", sec.Title.En, sec.Title.ZhHant, sec.Help)
	for {
		for _, f := range fields {
			if err := a.field(f); err != nil {
				return err
			}
		}
		if sec.ID == "sale" {
			if err := a.askLogo(); err != nil {
				return err
			}
		}
		if sec.Test == "" {
			return nil
		}
		r := a.test(ctx, sec.Test)
		if r.OK {
			fmt.Fprintln(a.out, "  ✓", r.Text)
			return nil
		}
		fmt.Fprintln(a.out, "  ✗", r.Text)
		again, err := a.yes("Answer these again?", true)
		if err != nil || !again {
			return err
		}
	}
}

// field asks one setting until the answer passes its rule (a script's
// wrong answer stops the command).
func (a *asker) field(f setup.Field) error {
	if !shown(f, a.file) {
		return nil
	}
	for {
		ans, err := a.ask(f)
		if err != nil {
			return err
		}
		ch := setup.Change{Values: map[string]string{f.Key: ans}}
		if ans == "-" {
			ch.Values[f.Key] = ""
			if f.Kind == setup.KindSecret {
				ch = setup.Change{Clear: []string{f.Key}}
			}
		}
		nf, err := setup.Apply(a.file, ch)
		if err == nil {
			a.file = nf
			return nil
		}
		if a.tty < 0 {
			return fmt.Errorf("%s: %w", f.Label.En, err)
		}
		fmt.Fprintln(a.out, "  ✗", err)
	}
}

// shown is whether a field applies: "gateway=qfpay" fields with QFPay.
func shown(f setup.Field, file config.File) bool {
	if f.When == "" {
		return true
	}
	k, v, _ := strings.Cut(f.When, "=")
	return setup.Values(file)[k] == v
}

// ask prints one question and reads the answer ("" keeps the value).
func (a *asker) ask(f setup.Field) (string, error) {
	values, set := setup.Values(a.file), setup.SecretsSet(a.file)
	q := f.Label.En
	switch f.Kind {
	case setup.KindChoice, setup.KindBool:
		var vs []string
		for _, c := range f.Choices {
			vs = append(vs, c.Value)
		}
		q += " (" + strings.Join(vs, ", ") + ")"
	case setup.KindWallets:
		var vs []string
		for _, c := range f.Wallets[values["gateway"]] {
			vs = append(vs, c.Value)
		}
		q += ", in order (" + strings.Join(vs, ", ") + ")"
	}
	fmt.Fprintf(a.out, "%s\n  %s", f.Help, q)
	switch f.Kind {
	case setup.KindSecret, setup.KindPIN:
		state := "not set"
		if set[f.Key] {
			state = "set; Enter keeps it"
		}
		fmt.Fprintf(a.out, " [%s]: ", state)
		ans, err := a.secret()
		if err != nil || f.Kind != setup.KindPIN || ans == "" {
			return ans, err
		}
		fmt.Fprint(a.out, "  Again: ")
		again, err := a.secret()
		if err != nil {
			return "", err
		}
		if again != ans {
			if a.tty < 0 {
				return "", fmt.Errorf("%s: the two PINs are not the same", f.Label.En)
			}
			fmt.Fprintln(a.out, "  ✗ The two PINs are not the same.")
			return a.ask(f)
		}
		return ans, nil
	}
	cur := values[f.Key]
	fmt.Fprintf(a.out, " [%s]: ", cur)
	ans, err := a.line()
	if err != nil {
		return "", err
	}
	if ans == "" {
		return cur, nil
	}
	if f.Kind == setup.KindBool {
		switch strings.ToLower(ans) {
		case "on", "yes", "y", "true":
			ans = "true"
		case "off", "no", "n", "false":
			ans = "false"
		}
	}
	return ans, nil
}

// askLogo asks for a logo file, checked as the page checks an upload.
func (a *asker) askLogo() error {
	cur := a.file.Logo
	if a.logo != nil {
		cur = a.logo.Name()
	}
	fmt.Fprintf(a.out, "A PNG or JPEG of at most 2 MiB and 2000 pixels a side, shown on the customer screen.\n  Logo file [%s]: ", orNone(cur))
	for {
		ans, err := a.line()
		if err != nil || ans == "" {
			return err
		}
		if ans == "-" {
			a.file.Logo, a.logo = "", nil
			return nil
		}
		raw, err := os.ReadFile(ans)
		var l *setup.Logo
		if err == nil {
			l, err = setup.NewLogo(raw, "")
		}
		if err == nil {
			a.logo = l
			w, h := l.Size()
			fmt.Fprintf(a.out, "  ✓ %d × %d pixels\n", w, h)
			return nil
		}
		if a.tty < 0 {
			return fmt.Errorf("logo %s: %w", ans, err)
		}
		fmt.Fprintf(a.out, "  ✗ %v\n  Logo file: ", err)
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// test proves a part of the settings answered so far, as the page's Test
// does.
func (a *asker) test(ctx context.Context, part probe.Part) probe.Result {
	r, refused := setup.Test(ctx, a.path, a.file, part, a.logo, a.getenv, a.probe)
	if len(refused) > 0 {
		r.Text = refused.Error()
	}
	return r
}

// yes asks a yes/no question.
func (a *asker) yes(q string, def bool) (bool, error) {
	hint := "[Y/n]"
	if !def {
		hint = "[y/N]"
	}
	fmt.Fprintf(a.out, "%s %s ", q, hint)
	ans, err := a.line()
	if err != nil {
		return false, err
	}
	switch strings.ToLower(ans) {
	case "":
		return def, nil
	case "y", "yes":
		return true, nil
	case "n", "no":
		return false, nil
	}
	return false, fmt.Errorf("%q: answer y or n", ans)
}

// line reads one answer.
func (a *asker) line() (string, error) {
	s, err := a.in.ReadString('\n')
	if err != nil && (s == "" || !errors.Is(err, io.EOF)) {
		return "", errInputEnded
	}
	if a.tty < 0 {
		fmt.Fprintln(a.out) // a script's answer is not echoed: end the line
	}
	return strings.TrimRight(s, "\r\n"), nil
}

// secret reads an answer a terminal does not echo.
func (a *asker) secret() (string, error) {
	if a.tty < 0 {
		return a.line()
	}
	old, err := unix.IoctlGetTermios(a.tty, unix.TCGETS)
	if err != nil {
		return a.line()
	}
	quiet := *old
	quiet.Lflag &^= unix.ECHO
	unix.IoctlSetTermios(a.tty, unix.TCSETS, &quiet)
	defer unix.IoctlSetTermios(a.tty, unix.TCSETS, old)
	s, err := a.line()
	fmt.Fprintln(a.out)
	return s, err
}

// ttyFD is stdin's descriptor when it is a terminal, else -1.
func ttyFD(in io.Reader) int {
	f, ok := in.(*os.File)
	if !ok {
		return -1
	}
	if _, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS); err != nil {
		return -1
	}
	return int(f.Fd())
}
