package packaging

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"qrkiosk/internal/proctest"
	"qrkiosk/relay"
	"qrkiosk/relay/relayclient"
	"qrkiosk/relay/sqlitestore"
)

// relaySecrets are the secret files of the relay package: the unit's
// credentials, created by postinst, removed by purge.
var relaySecrets = []string{"qfpay-key", "scanforpay-key", "token", "merchants", "database"}

// TestRelayUnit: the relay's unit runs it as its static user with every
// secret as a credential the relay reads, hardened (systemd-analyze
// security), and the settings template holds no secret.
func TestRelayUnit(t *testing.T) {
	needPackages(t)
	if dep := depends(t, debs["qrkiosk-relay"]); !slices.Contains(dep, "adduser") {
		t.Errorf("Depends %v lacks adduser: postinst creates the service user", dep)
	}
	root := extract(t, "qrkiosk-relay")
	u := readUnit(t, filepath.Join(root, "lib/systemd/system/qrkiosk-relay.service"))
	for key, want := range map[string]string{
		"Service.User":               "qrkiosk-relay",
		"Service.Group":              "qrkiosk-relay",
		"Service.StateDirectory":     "qrkiosk-relay",
		"Service.StateDirectoryMode": "0700",
		"Service.EnvironmentFile":    "/etc/qrkiosk-relay/env",
		"Service.Environment":        "QRKIOSK_RELAY_DATA=/var/lib/qrkiosk-relay",
		"Service.UMask":              "0077",
		// Hardening: what a network server that writes only its journal
		// can do without (the score below weighs some of it too lightly
		// to notice one going).
		"Service.CapabilityBoundingSet":   "",
		"Service.NoNewPrivileges":         "yes",
		"Service.PrivateUsers":            "yes",
		"Service.ProtectSystem":           "strict",
		"Service.ProtectHome":             "yes",
		"Service.PrivateTmp":              "yes",
		"Service.PrivateDevices":          "yes",
		"Service.ProtectKernelTunables":   "yes",
		"Service.ProtectKernelModules":    "yes",
		"Service.ProtectControlGroups":    "yes",
		"Service.ProtectProc":             "invisible",
		"Service.RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
		"Service.RestrictNamespaces":      "yes",
		"Service.RestrictSUIDSGID":        "yes",
		"Service.LockPersonality":         "yes",
		"Service.MemoryDenyWriteExecute":  "yes",
		"Service.SystemCallArchitectures": "native",
	} {
		if got := u.one(t, key); got != want {
			t.Errorf("%s=%s, want %s", key, got, want)
		}
	}
	if f := u.keys["Service.SystemCallFilter"]; !slices.Equal(f, []string{"@system-service", "~@privileged @resources"}) {
		t.Errorf("SystemCallFilter=%q", f)
	}
	if v := u.keys["Service.DynamicUser"]; len(v) > 0 {
		t.Errorf("DynamicUser=%v: the token commands must share the journal with the service's user", v)
	}
	// Every secret is a credential from /etc/qrkiosk-relay, with an empty
	// fallback so that a deleted file does not stop the relay.
	var ids []string
	for _, lc := range u.keys["Service.LoadCredential"] {
		id, path, _ := strings.Cut(lc, ":")
		ids = append(ids, id)
		if path != "/etc/qrkiosk-relay/"+id {
			t.Errorf("LoadCredential=%s: want /etc/qrkiosk-relay/%s", lc, id)
		}
		if !slices.Contains(u.keys["Service.SetCredential"], id+`:\n`) {
			t.Errorf("credential %s has no SetCredential=%s:\\n fallback", id, id)
		}
	}
	slices.Sort(ids)
	want := slices.Sorted(slices.Values(relaySecrets))
	if !slices.Equal(ids, want) {
		t.Errorf("LoadCredential ids %v, want %v", ids, want)
	}
	// ... which the relay reads by those names (its help lists them).
	argv := []string{filepath.Join(root, "usr/bin/qrkiosk-relay"), "help"}
	if q := archs[arch].qemu; q != "" {
		argv = append([]string{q}, argv...)
	}
	if _, err := exec.LookPath(argv[0]); err == nil {
		out, err := exec.Command(argv[0], argv[1:]...).Output()
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			if !regexp.MustCompile(`\b` + regexp.QuoteMeta(id) + `\b`).Match(out) {
				t.Errorf("qrkiosk-relay help does not name the credential %s:\n%s", id, out)
			}
		}
	}

	env, err := os.ReadFile(filepath.Join(root, "usr/share/qrkiosk-relay/env"))
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(env), "\n") {
		if m := regexp.MustCompile(`^\s*(QFPAY_KEY|SCANFORPAY_KEY|QRKIOSK_RELAY_TOKEN|QRKIOSK_RELAY_DATABASE)=`).FindString(l); m != "" {
			t.Errorf("env line %d sets %s: secrets belong in the credential files", i+1, m)
		}
		// systemd's EnvironmentFile= continues a comment ending in a
		// backslash onto the next line.
		if strings.HasPrefix(l, "#") && strings.HasSuffix(l, `\`) {
			t.Errorf("env line %d: a comment ending in a backslash swallows the next line", i+1)
		}
	}

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed (make deps installs systemd)")
	}
	cmd := exec.Command(analyze, "security", "--offline=true", "--no-pager", "qrkiosk-relay.service")
	cmd.Dir = filepath.Join(root, "lib/systemd/system")
	out, _ := cmd.CombinedOutput()
	m := regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+) (\w+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("systemd-analyze security gave no rating:\n%s", out)
	}
	exposure, _ := strconv.ParseFloat(string(m[1]), 64)
	t.Logf("systemd-analyze security: %.1f %s", exposure, m[2])
	// 1.1 with systemd 252 (6.9 MEDIUM as a DynamicUser with fewer
	// protections); without the syscall filter 2.6.
	if exposure > 1.5 {
		t.Errorf("exposure %.1f %s, want at most 1.5:\n%s", exposure, m[2], out)
	}
}

// fakeRoot is a throwaway copy of this machine's root (an overlay over /,
// its changes in memory) in a mount namespace of its own, where the test
// installs the package with dpkg as on a server: nothing it does reaches
// the real root. systemctl and deb-systemd-invoke are stubs that log their
// calls; "systemctl is-active" answers from a marker file.
type fakeRoot struct {
	t      *testing.T
	holder *exec.Cmd // keeps the namespace alive
	dir    string    // the merged root, as the namespace sees it
}

const (
	stubCalls  = "/var/log/qrkiosk-relay-test.calls"
	stubActive = "/run/qrkiosk-relay-test.active"
)

func newFakeRoot(t *testing.T) *fakeRoot {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("installs the package in an overlay of / in a mount namespace: needs root")
	}
	for _, b := range []string{"unshare", "nsenter", "setpriv", "runuser", "dpkg"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("%s is not installed", b)
		}
	}
	d := t.TempDir()
	script := `set -e
mount -t tmpfs tmpfs "$1"
mkdir "$1/upper" "$1/work" "$1/root"
mount -t overlay overlay -o lowerdir=/,upperdir="$1/upper",workdir="$1/work" "$1/root"
mount -t proc proc "$1/root/proc"
mount --rbind /dev "$1/root/dev"
echo ready
exec sleep 3600`
	holder := exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", d)
	p := proctest.Start(t, holder)
	if l := p.Line(30 * time.Second); l != "ready" {
		t.Skipf("no overlay of / here: %q %s", l, p.Stderr.String())
	}
	r := &fakeRoot{t: t, holder: holder, dir: filepath.Join(d, "root")}
	// systemctl --root=… (deb-systemd-helper enabling the unit) works
	// offline: the real one does it.
	if out, err := r.sh("mv /usr/bin/systemctl /usr/bin/systemctl.real"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	stub := func(name, body string) {
		r.write("/usr/bin/"+name, 0o755, "#!/bin/sh\necho \""+name+" $*\" >>"+stubCalls+"\n"+body)
	}
	stub("systemctl", `case "$*" in
*--root=*) exec /usr/bin/systemctl.real "$@" ;;
*is-active*) [ -e `+stubActive+` ] ;;
esac
`)
	stub("deb-systemd-invoke", "")
	if out, err := r.sh("mkdir -p /run/systemd/system && rm -f /usr/sbin/policy-rc.d " + stubActive + " " + stubCalls); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return r
}

// path is p in the fake root, as this process reaches it.
func (r *fakeRoot) path(p string) string {
	return fmt.Sprintf("/proc/%d/root%s", r.holder.Process.Pid, filepath.Join(r.dir, p))
}

func (r *fakeRoot) write(p string, mode fs.FileMode, content string) {
	r.t.Helper()
	if err := os.MkdirAll(filepath.Dir(r.path(p)), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(r.path(p), []byte(content), mode); err != nil {
		r.t.Fatal(err)
	}
	os.Chmod(r.path(p), mode)
}

// command is script run by sh as root in the fake root.
func (r *fakeRoot) command(script string) *exec.Cmd {
	cmd := exec.Command("nsenter", "-t", strconv.Itoa(r.holder.Process.Pid), "-m", "--", "chroot", r.dir, "/bin/sh", "-c", script)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", "HOME=/root"}
	return cmd
}

func (r *fakeRoot) sh(script string) (string, error) {
	out, err := r.command(script).CombinedOutput()
	return string(out), err
}

// calls returns the stubs' log since the last call, and empties it.
func (r *fakeRoot) calls() string {
	b, _ := os.ReadFile(r.path(stubCalls))
	os.Remove(r.path(stubCalls))
	return string(b)
}

func (r *fakeRoot) stat(p string) (mode fs.FileMode, uid, gid uint32) {
	r.t.Helper()
	st, err := os.Lstat(r.path(p))
	if err != nil {
		r.t.Fatal(err)
	}
	s := st.Sys().(*syscall.Stat_t)
	return st.Mode(), s.Uid, s.Gid
}

// TestRelayInstall installs the relay package with dpkg in a copy of this
// machine's root, over the journal an earlier (DynamicUser) version left,
// and checks what a server's administrator gets: the service user, the
// journal moved back and given to it, the secret files 0600, the start
// decision, the token commands as that user, the relay running as it with
// those secrets, and purge.
func TestRelayInstall(t *testing.T) {
	needPackages(t)
	if archs[arch].qemu != "" {
		t.Skip("installs the package on this machine's architecture only")
	}
	r := newFakeRoot(t)
	host := extract(t, "qrkiosk-relay")

	// What an earlier version left: its journal (with a token) in
	// /var/lib/private, owned by a dynamic user number, behind a symlink.
	// (Made in the fake root: SQLite resolves the /proc/PID/root path.)
	bin, err := os.ReadFile(filepath.Join(host, "usr/bin/qrkiosk-relay"))
	if err != nil {
		t.Fatal(err)
	}
	r.write("/root/qrkiosk-relay", 0o755, string(bin))
	if out, err := r.sh(`set -e
mkdir -p -m 0700 /var/lib/private/qrkiosk-relay
/root/qrkiosk-relay token add --data /var/lib/private/qrkiosk-relay --merchant default --udid old-counter >/dev/null
chown -R 61415:61415 /var/lib/private/qrkiosk-relay
rm -rf /var/lib/qrkiosk-relay /root/qrkiosk-relay
ln -s private/qrkiosk-relay /var/lib/qrkiosk-relay`); err != nil {
		t.Fatalf("a journal of the earlier version: %v\n%s", err, out)
	}
	legacy := r.path("/var/lib/private/qrkiosk-relay")

	deb, err := os.ReadFile(debs["qrkiosk-relay"])
	if err != nil {
		t.Fatal(err)
	}
	r.write("/root/qrkiosk-relay.deb", 0o644, string(deb))
	out, err := r.sh("dpkg -i /root/qrkiosk-relay.deb")
	if err != nil {
		t.Fatalf("dpkg -i: %v\n%s", err, out)
	}
	calls := r.calls()
	if !strings.Contains(out, "not started") || !strings.Contains(out, "a merchant is required") || !strings.Contains(out, "/etc/qrkiosk-relay/qfpay-key") {
		t.Errorf("dpkg -i without a merchant does not say what to set:\n%s", out)
	}
	if strings.Contains(out, "adduser") {
		t.Errorf("adduser complains:\n%s", out)
	}
	if !strings.Contains(calls, "deb-systemd-invoke stop qrkiosk-relay.service") || strings.Contains(calls, "restart") {
		t.Errorf("over an earlier version's journal, want it stopped and not started again; calls:\n%s", calls)
	}

	// The service user: a system user without a login.
	passwd, err := os.ReadFile(r.path("/etc/passwd"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^qrkiosk-relay:x:(\d+):(\d+):[^:\n]*:([^:\n]*):([^:\n]*)$`).FindStringSubmatch(string(passwd))
	if m == nil {
		t.Fatalf("no user qrkiosk-relay in /etc/passwd:\n%s", passwd)
	}
	uid, _ := strconv.Atoi(m[1])
	gid, _ := strconv.Atoi(m[2])
	if uid >= 1000 || m[3] != "/var/lib/qrkiosk-relay" || m[4] != "/usr/sbin/nologin" {
		t.Errorf("user qrkiosk-relay: %q, want a system user (uid < 1000) at /var/lib/qrkiosk-relay with /usr/sbin/nologin", m[0])
	}

	// The journal: back in /var/lib/qrkiosk-relay, the user's, all of it.
	if mode, u, g := r.stat("/var/lib/qrkiosk-relay"); !mode.IsDir() || mode.Perm() != 0o700 || int(u) != uid || int(g) != gid {
		t.Errorf("/var/lib/qrkiosk-relay: %v %d:%d, want a 0700 directory of %d:%d", mode, u, g, uid, gid)
	}
	if _, err := os.Lstat(legacy); !os.IsNotExist(err) {
		t.Errorf("/var/lib/private/qrkiosk-relay is still there (%v)", err)
	}
	ents, _ := os.ReadDir(r.path("/var/lib/qrkiosk-relay"))
	if len(ents) == 0 {
		t.Error("the earlier journal was not moved")
	}
	for _, e := range ents {
		if _, u, _ := r.stat("/var/lib/qrkiosk-relay/" + e.Name()); int(u) != uid {
			t.Errorf("%s is owned by %d, not qrkiosk-relay (%d)", e.Name(), u, uid)
		}
	}

	// Settings and secrets: root's, 0600; the secrets empty.
	for _, f := range append([]string{"env"}, relaySecrets...) {
		mode, u, _ := r.stat("/etc/qrkiosk-relay/" + f)
		if !mode.IsRegular() || mode.Perm() != 0o600 || u != 0 {
			t.Errorf("/etc/qrkiosk-relay/%s: %v owner %d, want a 0600 file of root", f, mode, u)
		}
		if b, _ := os.ReadFile(r.path("/etc/qrkiosk-relay/" + f)); f != "env" && len(b) != 0 {
			t.Errorf("/etc/qrkiosk-relay/%s is not empty", f)
		}
	}
	if _, err := os.Lstat(r.path("/etc/systemd/system/multi-user.target.wants/qrkiosk-relay.service")); err != nil {
		t.Errorf("the unit is not enabled: %v", err)
	}

	// The start decision: whatever the relay itself would start with.
	envFile, _ := os.ReadFile(r.path("/etc/qrkiosk-relay/env"))
	for _, c := range []struct {
		name    string
		files   map[string]string // under /etc/qrkiosk-relay; env gets appended to
		active  bool
		restart bool
		say     string
	}{
		{"nothing", nil, false, false, "a merchant is required"},
		{"QFPay key", map[string]string{"qfpay-key": "K\n"}, false, true, ""},
		{"ScanForPay key in env", map[string]string{"env": "SCANFORPAY_KEY=S\n"}, false, true, ""},
		{"merchants file", map[string]string{"merchants": "# id gateway app_code key\nshop-a qfpay APPA KEYA\n"}, false, true, ""},
		{"merchants and kiosk tokens, no shared token", map[string]string{"merchants": "shop-a qfpay APPA KEYA\n", "token": ""}, false, true, ""},
		{"a shared token, no merchant", map[string]string{"token": "T\n"}, false, false, "a merchant is required"},
		{"bad merchants file", map[string]string{"merchants": "shop-a qfpay APPA\n"}, false, false, "want 4 fields"},
		{"the key twice", map[string]string{"qfpay-key": "K\n", "env": "QFPAY_KEY=K\n"}, false, false, "give one"},
		{"running, nothing to check", nil, true, true, ""},
	} {
		t.Run("postinst/"+c.name, func(t *testing.T) {
			r.write("/etc/qrkiosk-relay/env", 0o600, string(envFile)+c.files["env"])
			for _, s := range relaySecrets {
				r.write("/etc/qrkiosk-relay/"+s, 0o600, c.files[s])
			}
			os.Remove(r.path(stubActive))
			if c.active {
				r.write(stubActive, 0o644, "")
			}
			// As dpkg runs it (deb-systemd-helper insists).
			out, err := r.sh("DPKG_MAINTSCRIPT_PACKAGE=qrkiosk-relay DPKG_MAINTSCRIPT_NAME=postinst /var/lib/dpkg/info/qrkiosk-relay.postinst configure 0.1.0")
			calls := r.calls()
			if err != nil {
				t.Fatalf("postinst: %v\n%s", err, out)
			}
			if got := strings.Contains(calls, "deb-systemd-invoke restart qrkiosk-relay.service"); got != c.restart {
				t.Errorf("restarted %v, want %v; output:\n%s\ncalls:\n%s", got, c.restart, out, calls)
			}
			if c.say != "" && !strings.Contains(out, c.say) {
				t.Errorf("postinst does not say %q:\n%s", c.say, out)
			}
			if c.restart && out != "" {
				t.Errorf("postinst says:\n%s", out)
			}
		})
	}
	os.Remove(r.path(stubActive))
	r.write("/etc/qrkiosk-relay/env", 0o600, string(envFile))
	for _, s := range relaySecrets {
		r.write("/etc/qrkiosk-relay/"+s, 0o600, "")
	}
	key := "0123456789ABCDEF0123456789ABCDEF"
	r.write("/etc/qrkiosk-relay/qfpay-key", 0o600, key+"\n")

	// Token commands: refused to root, as the README says for the user.
	out, err = r.sh("qrkiosk-relay token add --data /var/lib/qrkiosk-relay --merchant default --udid counter-1")
	if code := exitCode(err); code != 64 || !strings.Contains(out, "sudo -u qrkiosk-relay qrkiosk-relay") {
		t.Errorf("token add as root: exit %d, %q; want 64 and the command to use", code, out)
	}
	tok := r.command("runuser -u qrkiosk-relay -- qrkiosk-relay token add --data /var/lib/qrkiosk-relay --merchant default --udid counter-1")
	var tokErr bytes.Buffer
	tok.Stderr = &tokErr
	tokOut, err := tok.Output()
	token := strings.TrimSpace(string(tokOut))
	if err != nil || !strings.HasPrefix(token, relay.TokenPrefix) {
		t.Fatalf("token add as qrkiosk-relay: %v %q %s", err, tokOut, tokErr.String())
	}
	list, err := r.sh("runuser -u qrkiosk-relay -- qrkiosk-relay token list --data /var/lib/qrkiosk-relay")
	if err != nil || !strings.Contains(list, "old-counter") || !strings.Contains(list, "counter-1") {
		t.Errorf("token list: %v\n%s", err, list)
	}
	for _, e := range mustReadDir(t, r.path("/var/lib/qrkiosk-relay")) {
		if _, u, _ := r.stat("/var/lib/qrkiosk-relay/" + e.Name()); int(u) != uid {
			t.Errorf("after the token commands %s is owned by %d", e.Name(), u)
		}
	}

	// The relay as the service runs it: its user, the env file, the
	// secrets handed over as systemd does (a copy only it can read).
	creds := "/run/credentials/qrkiosk-relay.service"
	if out, err := r.sh(fmt.Sprintf("mkdir -p %[1]s && cp /etc/qrkiosk-relay/qfpay-key /etc/qrkiosk-relay/scanforpay-key /etc/qrkiosk-relay/token /etc/qrkiosk-relay/merchants /etc/qrkiosk-relay/database %[1]s && chown -R qrkiosk-relay %[1]s && chmod 0400 %[1]s/* && chmod 0500 %[1]s", creds)); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	srv := proctest.Start(t, r.command(fmt.Sprintf("set -a && . /etc/qrkiosk-relay/env && CREDENTIALS_DIRECTORY=%s QRKIOSK_RELAY_DATA=/var/lib/qrkiosk-relay exec setpriv --reuid=qrkiosk-relay --regid=qrkiosk-relay --clear-groups /usr/bin/qrkiosk-relay --listen 127.0.0.1:0", creds)))
	base := srv.Listening(30 * time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	kiosk := relayclient.NewClient(relayclient.Config{URL: "ws" + strings.TrimPrefix(base, "http") + "/ws", Token: token, UDID: "counter-1"})
	go kiosk.Run(ctx)
	otn := "QK20250102100003a1b2c3d4e5f60718"
	msgs, unsubscribe := kiosk.Subscribe(otn)
	defer unsubscribe()
	link, unwatch := kiosk.WatchLink()
	defer unwatch()
	waitUp(t, kiosk, link, srv)
	body := fmt.Appendf(nil, `{"notify_type":"payment","status":"1","respcd":"0000","syssn":"20250102000300020012345678",`+
		`"out_trade_no":%q,"txamt":"1500","txcurrcd":"HKD","pay_type":"800101","udid":"counter-1","sysdtm":"2025-01-02 10:00:00"}`, otn)
	sum := md5.Sum(append(append([]byte{}, body...), key...))
	req, _ := http.NewRequest("POST", base+"/notify/qfpay", bytes.NewReader(body))
	req.Header.Set("X-QF-SIGN", strings.ToUpper(hex.EncodeToString(sum[:])))
	// QFPay's notifier, through the reverse proxy the env file trusts.
	req.Header.Set("X-Forwarded-For", "13.228.112.115")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("notification: %s; relay stderr:\n%s", resp.Status, srv.Stderr.String())
	}
	select {
	case msg := <-msgs:
		if !bytes.Equal(msg.Body, body) {
			t.Errorf("the kiosk got %s, want %s", msg.Body, body)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("the kiosk's token got no notification; relay stderr:\n%s", srv.Stderr.String())
	}
	srv.Cmd.Process.Signal(syscall.SIGTERM)
	if code := srv.Wait(20 * time.Second); code != 0 {
		t.Errorf("relay exit %d", code)
	}
	for _, e := range mustReadDir(t, r.path("/var/lib/qrkiosk-relay")) {
		if _, u, _ := r.stat("/var/lib/qrkiosk-relay/" + e.Name()); int(u) != uid {
			t.Errorf("after the relay ran, %s is owned by %d", e.Name(), u)
		}
	}

	// Purge: the settings and secrets go, the journal stays.
	out, err = r.sh("dpkg --purge qrkiosk-relay")
	if err != nil {
		t.Fatalf("dpkg --purge: %v\n%s", err, out)
	}
	if _, err := os.Lstat(r.path("/etc/qrkiosk-relay")); !os.IsNotExist(err) {
		ents, _ := os.ReadDir(r.path("/etc/qrkiosk-relay"))
		t.Errorf("/etc/qrkiosk-relay after purge: %v %v", ents, err)
	}
	if _, err := os.Stat(r.path("/var/lib/qrkiosk-relay/" + sqlitestore.JournalFile)); err != nil || !strings.Contains(out, "stays in /var/lib/qrkiosk-relay") {
		t.Errorf("after purge the journal: %v; output:\n%s", err, out)
	}
}

// waitUp waits until the kiosk's link is up (connected, subscriptions
// acknowledged).
func waitUp(t *testing.T, c *relayclient.Client, link <-chan bool, srv *proctest.Proc) {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for !c.Up() {
		select {
		case <-link:
		case <-deadline:
			t.Fatalf("the kiosk's link did not come up; relay stderr:\n%s", srv.Stderr.String())
		}
	}
}

func exitCode(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func mustReadDir(t *testing.T, dir string) []os.DirEntry {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return ents
}
