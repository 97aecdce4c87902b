package packaging

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// fields reads control fields of a .deb.
func fields(t *testing.T, deb string, names ...string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, n := range names {
		out, err := exec.Command("dpkg-deb", "--field", deb, n).Output()
		if err != nil {
			t.Fatalf("dpkg-deb --field %s %s: %v", deb, n, err)
		}
		got[n] = strings.TrimSpace(string(out))
	}
	return got
}

// depends is the Depends field's package names.
func depends(t *testing.T, deb string) []string {
	t.Helper()
	var names []string
	for _, d := range strings.Split(fields(t, deb, "Depends")["Depends"], ",") {
		names = append(names, strings.Fields(d)[0])
	}
	return names
}

// TestPackageContents: dpkg-deb --info and --contents of both packages are
// what an installer needs: the version from FyneApp.toml, the architecture,
// every file in place, owned by root, with its mode.
func TestPackageContents(t *testing.T) {
	needPackages(t)
	want := map[string]map[string]string{
		"qrkiosk": {
			"./usr/bin/qrkiosk":                                  "-rwxr-xr-x",
			"./lib/systemd/system/qrkiosk.service":               "-rw-r--r--",
			"./etc/pam.d/qrkiosk":                                "-rw-r--r--",
			"./usr/share/qrkiosk/config.toml":                    "-rw-r--r--",
			"./usr/share/applications/qrkiosk.desktop":           "-rw-r--r--",
			"./usr/share/icons/hicolor/512x512/apps/qrkiosk.png": "-rw-r--r--",
			"./usr/share/doc/qrkiosk/README.md":                  "-rw-r--r--",
			"./usr/share/doc/qrkiosk/copyright":                  "-rw-r--r--",
		},
		"qrkiosk-relay": {
			"./usr/bin/qrkiosk-relay":                    "-rwxr-xr-x",
			"./usr/bin/qfpay-sim":                        "-rwxr-xr-x",
			"./lib/systemd/system/qrkiosk-relay.service": "-rw-r--r--",
			"./usr/share/qrkiosk-relay/env":              "-rw-r--r--",
			"./usr/share/doc/qrkiosk-relay/README.md":    "-rw-r--r--",
			"./usr/share/doc/qrkiosk-relay/copyright":    "-rw-r--r--",
		},
	}
	for name, files := range want {
		t.Run(name, func(t *testing.T) {
			deb := debs[name]
			if filepath.Base(deb) != name+"_"+version+"_"+arch+".deb" {
				t.Errorf("file name %s", filepath.Base(deb))
			}
			f := fields(t, deb, "Package", "Version", "Architecture", "Maintainer", "Description", "Installed-Size")
			if f["Package"] != name || f["Version"] != version || f["Architecture"] != arch {
				t.Errorf("control: %+v; want %s %s %s", f, name, version, arch)
			}
			if f["Maintainer"] == "" || f["Description"] == "" || f["Installed-Size"] == "0" {
				t.Errorf("control: %+v", f)
			}
			out, err := exec.Command("dpkg-deb", "--contents", deb).Output()
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				c := strings.Fields(l)
				if len(c) < 6 {
					t.Fatalf("--contents line %q", l)
				}
				if c[1] != "root/root" {
					t.Errorf("%s owned by %s, want root/root", c[5], c[1])
				}
				if c[0][0] == '-' {
					got[c[5]] = c[0]
				}
			}
			for path, mode := range files {
				if got[path] != mode {
					t.Errorf("%s: %q, want %s", path, got[path], mode)
				}
			}
			for path := range got {
				if _, ok := files[path]; !ok {
					t.Errorf("unexpected file %s", path)
				}
			}
			// Maintainer scripts: present, executable, valid sh.
			ctl := t.TempDir()
			if out, err := exec.Command("dpkg-deb", "-e", deb, ctl).CombinedOutput(); err != nil {
				t.Fatalf("dpkg-deb -e: %v\n%s", err, out)
			}
			for _, s := range []string{"postinst", "prerm", "postrm"} {
				p := filepath.Join(ctl, s)
				if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o755 {
					t.Errorf("%s: %v %v", s, st, err)
					continue
				}
				if out, err := exec.Command("sh", "-n", p).CombinedOutput(); err != nil {
					t.Errorf("%s: %v\n%s", s, err, out)
				}
			}
		})
	}

	// The conffile dpkg tracks, and the ones it must not (config.toml is
	// created by postinst, 0600 for the service user: it holds the key).
	ctl := t.TempDir()
	exec.Command("dpkg-deb", "-e", debs["qrkiosk"], ctl).Run()
	if b, _ := os.ReadFile(filepath.Join(ctl, "conffiles")); strings.TrimSpace(string(b)) != "/etc/pam.d/qrkiosk" {
		t.Errorf("conffiles: %q", b)
	}
	post, _ := os.ReadFile(filepath.Join(ctl, "postinst"))
	if !strings.Contains(string(post), "install -m 0600 -o qrkiosk -g qrkiosk /usr/share/qrkiosk/config.toml /etc/qrkiosk/config.toml") {
		t.Error("postinst does not create /etc/qrkiosk/config.toml 0600 for qrkiosk")
	}
	// The setup page replaces config.toml by renaming a new file over it:
	// the kiosk's user must be able to create files in its directory.
	if !strings.Contains(string(post), "install -d -m 0755 -o qrkiosk -g qrkiosk /etc/qrkiosk") {
		t.Error("postinst does not give /etc/qrkiosk to qrkiosk")
	}
}

// optionalLibs are libraries GLFW may dlopen that the kiosk does without.
var optionalLibs = map[string]string{
	"libvulkan.so.1":    "Vulkan surfaces: Fyne draws with OpenGL",
	"libdecor-0.so.0":   "client-side decorations: cage -d asks for none",
	"libGLESv2.so.2":    "OpenGL ES contexts: Fyne asks for desktop OpenGL",
	"libGLESv1_CM.so.1": "OpenGL ES 1 contexts",
	"libGLES_CM.so.1":   "OpenGL ES 1 contexts",
	"libOSMesa.so.6":    "off-screen Mesa contexts",
	"libOSMesa.so.8":    "off-screen Mesa contexts",
	"libOpenGL.so.0":    "tried before libGL.so.1 (libgl1) for EGL desktop GL",
}

// TestDependsCoverLibraries: every library the kiosk links (ELF NEEDED) or
// GLFW loads at run time (the sonames in the binary) comes from a package
// in Depends, found with dpkg -S for the package's architecture; the
// servers are static.
func TestDependsCoverLibraries(t *testing.T) {
	needPackages(t)
	root := extract(t, "qrkiosk", "qrkiosk-relay")
	bin := filepath.Join(root, "usr/bin/qrkiosk")
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if uint16(f.Machine) != archs[arch].machine {
		t.Fatalf("usr/bin/qrkiosk is for %v, not %s", f.Machine, arch)
	}
	needed, err := f.ImportedLibraries()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	libs := map[string]bool{}
	for _, l := range needed {
		libs[l] = true
	}
	for _, m := range regexp.MustCompile(`lib[A-Za-z0-9_+-]+\.so\.[0-9]+`).FindAll(raw, -1) {
		libs[string(m)] = true
	}
	for _, must := range []string{"libGL.so.1", "libX11.so.6", "libwayland-client.so.0", "libxkbcommon.so.0", "libEGL.so.1"} {
		if !libs[must] {
			t.Errorf("%s not found in the binary: is this the Fyne kiosk?", must)
		}
	}
	dep := depends(t, debs["qrkiosk"])
	var names []string
	for l := range libs {
		names = append(names, l)
	}
	sort.Strings(names)
	for _, l := range names {
		if _, ok := optionalLibs[l]; ok {
			continue
		}
		out, err := exec.Command("dpkg", "-S", "*/"+archs[arch].triplet+"/"+l).Output()
		if err != nil {
			t.Errorf("%s: no installed %s package has it (dpkg -S); install its runtime package for %s, then add it to Depends", l, arch, arch)
			continue
		}
		var pkgs []string
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			p, _, _ := strings.Cut(line, ": ")
			for _, q := range strings.Split(p, ", ") {
				pkgs = append(pkgs, strings.TrimSuffix(q, ":"+arch))
			}
		}
		if !slices.ContainsFunc(pkgs, func(p string) bool { return slices.Contains(dep, p) }) {
			t.Errorf("%s comes from %v, none of which is in Depends", l, pkgs)
		}
	}
	for _, want := range []string{"cage", "xwayland", "ca-certificates", "libpam-systemd", "adduser"} {
		if !slices.Contains(dep, want) {
			t.Errorf("Depends lacks %s", want)
		}
	}

	for _, s := range []string{"qrkiosk-relay", "qfpay-sim"} {
		f, err := elf.Open(filepath.Join(root, "usr/bin", s))
		if err != nil {
			t.Fatal(err)
		}
		if uint16(f.Machine) != archs[arch].machine {
			t.Errorf("%s is for %v, not %s", s, f.Machine, arch)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("%s is dynamically linked: servers build with CGO_ENABLED=0", s)
			}
		}
		f.Close()
	}
}

// TestUnitsVerify: systemd-analyze verify passes both units with nothing to
// say (it only warns, exit 0, about an unknown key), in a root holding the
// packages, the system's own units and cage, so that every ExecStart
// binary is checked where it will be.
func TestUnitsVerify(t *testing.T) {
	needPackages(t)
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed (make deps installs systemd)")
	}
	cage, err := exec.LookPath("cage")
	if err != nil {
		t.Skip("cage is not installed (make deps installs it)")
	}
	root := extract(t, "qrkiosk", "qrkiosk-relay")
	if out, err := exec.Command("cp", "-a", "/usr/lib/systemd/system", filepath.Join(root, "usr/lib/systemd/")).CombinedOutput(); err != nil {
		os.MkdirAll(filepath.Join(root, "usr/lib/systemd"), 0o755)
		if out, err = exec.Command("cp", "-a", "/usr/lib/systemd/system", filepath.Join(root, "usr/lib/systemd/")).CombinedOutput(); err != nil {
			t.Fatalf("copying the system's units: %v\n%s", err, out)
		}
	}
	if out, err := exec.Command("cp", cage, filepath.Join(root, "usr/bin/cage")).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	cmd := exec.Command(analyze, "verify", "--root="+root, "/lib/systemd/system/qrkiosk.service", "/lib/systemd/system/qrkiosk-relay.service")
	out, err := cmd.CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}

	// What the kiosk needs of its unit, beyond what systemd can check.
	u := readUnit(t, filepath.Join(root, "lib/systemd/system/qrkiosk.service"))
	for key, want := range map[string]string{
		"Service.Type":         "notify",
		"Service.NotifyAccess": "all", // the kiosk is cage's child
		"Service.Restart":      "always",
		"Service.User":         "qrkiosk",
		"Service.PAMName":      "qrkiosk",
		"Service.TTYPath":      "/dev/tty1",
		"Install.WantedBy":     "graphical.target",
	} {
		if got := u.one(t, key); got != want {
			t.Errorf("%s=%s, want %s", key, got, want)
		}
	}
	if w := u.one(t, "Service.WatchdogSec"); w == "" || w == "0" {
		t.Errorf("WatchdogSec=%q", w)
	}
	env := strings.Join(u.keys["Service.Environment"], " ")
	for _, want := range []string{"QRKIOSK_CONFIG=/etc/qrkiosk/config.toml", "QRKIOSK_DATA=/var/lib/qrkiosk", "XDG_SESSION_TYPE=wayland"} {
		if !strings.Contains(env, want) {
			t.Errorf("Environment lacks %s: %s", want, env)
		}
	}
	exe := strings.Fields(u.one(t, "Service.ExecStart"))
	if exe[0] != "/usr/bin/cage" || !slices.Contains(exe, "--kiosk") {
		t.Errorf("ExecStart=%q: want cage running qrkiosk --kiosk", exe)
	}
}

// TestDefaultConfig: the packaged settings are valid and, without
// credentials, mean demo mode (qrkiosk config check exits 1, not 64).
func TestDefaultConfig(t *testing.T) {
	needPackages(t)
	if archs[arch].qemu != "" {
		t.Skip("the settings file is the same for every architecture (make test)")
	}
	root := extract(t, "qrkiosk")
	installConfig(t, root, "", "")
	cmd := exec.Command(filepath.Join(root, "usr/bin/qrkiosk"), "config", "check")
	cmd.Env = []string{"QRKIOSK_CONFIG=" + filepath.Join(root, "etc/qrkiosk/config.toml"), "HOME=" + t.TempDir()}
	out, err := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Fatalf("config check: exit %d (%v), want 1 (demo mode)\n%s", code, err, out)
	}
	if !strings.Contains(strings.ToLower(string(out)), "demo") {
		t.Errorf("config check does not say demo mode:\n%s", out)
	}

	desk, err := os.ReadFile(filepath.Join(root, "usr/share/applications/qrkiosk.desktop"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"[Desktop Entry]", "\nType=Application", "\nExec=qrkiosk", "\nIcon=qrkiosk", "\nCategories=", "\nComment="} {
		if !strings.Contains(string(desk), want) {
			t.Errorf("qrkiosk.desktop lacks %q", want)
		}
	}
}
