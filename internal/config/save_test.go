package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
)

// fullFile sets every setting File has.
func fullFile() File {
	on := false
	f := File{Gateway: "qfpay", MerchantName: "陳記 \"茶\" 餐廳\\", Currency: "HKD", PayTypes: []string{"payme", "fps", "alipayhk"},
		ExpiryMinutes: 10, UDID: "counter-1", PIN: "2468", ManagerPINHash: "pbkdf2-sha256$600000$c2FsdA$aGFzaA", Layout: "single",
		RelayURL: "wss://relay.example/ws", RelayToken: "qrkt_abc", Sound: &on, Logo: "logo.png"}
	f.QFPay.Env, f.QFPay.BaseURL, f.QFPay.AppCode, f.QFPay.Key, f.QFPay.MchID, f.QFPay.SignType = "test", "http://127.0.0.1:1", "APP", "KEY\t1", "MCH", "SHA256"
	f.ScanForPay.BaseURL, f.ScanForPay.PartnerNo, f.ScanForPay.StoreNo, f.ScanForPay.Key, f.ScanForPay.TerminalNo, f.ScanForPay.NotifyURL =
		"https://sfp.example", "P1", "S1", "K1", "T1", "https://relay.example/notify/scanforpay"
	return f
}

// Every setting File has is written and read back as it was: the writer
// knows every field (a section added to File is written too).
func TestEncodeReadsBack(t *testing.T) {
	f := fullFile()
	data, err := Encode(f)
	if err != nil {
		t.Fatal(err)
	}
	var back File
	md, err := toml.Decode(string(data), &back)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if !reflect.DeepEqual(back, f) {
		t.Fatalf("read back %+v\nwant %+v\n%s", back, f, data)
	}
	// Every field was written, so every key is set in the text.
	if n := len(md.Keys()); n < 25 {
		t.Errorf("%d keys written:\n%s", n, data)
	}
}

// The layout: the header, a line saying what each setting is above it,
// the top-level settings before the tables, and nothing for what is not
// set (an empty file is the header alone: defaults everywhere).
func TestEncodeLayout(t *testing.T) {
	var f File
	f.MerchantName = "Shop"
	f.QFPay.AppCode = "APP"
	data, err := Encode(f)
	if err != nil {
		t.Fatal(err)
	}
	want := fileHeader + `# the shop's name on the customer screen
merchant_name = "Shop"

# QFPay: the credentials QFPay issued
[qfpay]
# the app code
appcode = "APP"
`
	if string(data) != want {
		t.Fatalf("got:\n%s\nwant:\n%s", data, want)
	}
	empty, _ := Encode(File{})
	if string(empty) != fileHeader {
		t.Fatalf("an empty file:\n%s", empty)
	}
}

func TestEncodeRefusesWhatTOMLCannotHold(t *testing.T) {
	_, err := Encode(File{MerchantName: "bad \xff"})
	if err == nil || !strings.Contains(err.Error(), "merchant_name") || !strings.Contains(err.Error(), "UTF-8") {
		t.Fatalf("err %v, want merchant_name named and the rule", err)
	}
}

// FuzzEncode: whatever text the settings hold, the file written reads
// back to the same settings, or the writer refuses naming the setting.
func FuzzEncode(f *testing.F) {
	f.Add("陳記", "A\"B\\C", "k\x00\x7f\n", "wechat,payme", 10, "on")
	f.Add("\xff", "", "", "", 0, "")
	f.Fuzz(func(t *testing.T, name, appcode, key, payTypes string, expiry int, sound string) {
		file := File{MerchantName: name, ExpiryMinutes: expiry}
		if payTypes != "" {
			file.PayTypes = strings.Split(payTypes, ",")
		}
		file.QFPay.AppCode, file.QFPay.Key = appcode, key
		if sound != "" {
			on := sound == "on"
			file.Sound = &on
		}
		data, err := Encode(file)
		if err != nil {
			if utf8.ValidString(name) && utf8.ValidString(appcode) && utf8.ValidString(key) && utf8.ValidString(payTypes) {
				t.Fatalf("valid text refused: %v", err)
			}
			return
		}
		var back File
		if _, err := toml.Decode(string(data), &back); err != nil {
			t.Fatalf("written file does not read: %v\n%q", err, data)
		}
		if !reflect.DeepEqual(back, file) {
			t.Fatalf("read back %+v, want %+v", back, file)
		}
	})
}

// leftovers are the files in dir other than want: temporary files a
// write left behind.
func leftovers(t *testing.T, dir string, want ...string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var extra []string
	for _, e := range ents {
		if !slices.Contains(want, e.Name()) {
			extra = append(extra, e.Name())
		}
	}
	return extra
}

// A saved file is 0600 (it holds the key), reads back as what was saved,
// and the previous version is kept beside it, 0600 too.
func TestSaveWritesAndKeepsThePrevious(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	old := "# my notes\nmerchant_name = \"Old\"\n"
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	f := File{MerchantName: "New", PayTypes: []string{"wechat", "alipayhk"}}
	f.QFPay.AppCode, f.QFPay.Key, f.QFPay.Env = "APPCODE1", "KEY1", "test"
	c, err := Save(path, f, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Demo() || c.MerchantName != "New" || c.PayTypes[0].Wallet != "wechat" {
		t.Fatalf("saved config %+v", c)
	}
	loaded, err := Load(path, envOf(nil))
	if err != nil || loaded.MerchantName != "New" || loaded.QFPay.Key != "KEY1" || loaded.QFPay.Env != "test" || loaded.PayTypes[0].Wallet != "wechat" {
		t.Fatalf("the kiosk reads %+v, %v", loaded, err)
	}
	for p, want := range map[string]string{path: "", path + BackupSuffix: old} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", p, fi.Mode().Perm())
		}
		if b, _ := os.ReadFile(p); want != "" && string(b) != want {
			t.Errorf("%s holds %q, want the previous version %q", p, b, want)
		}
	}
	if extra := leftovers(t, dir, "config.toml", "config.toml.bak"); len(extra) > 0 {
		t.Errorf("left behind: %v", extra)
	}
}

func TestSaveCreatesAMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "qrkiosk", "config.toml")
	if _, err := Save(path, File{MerchantName: "Shop"}, envOf(nil)); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%v %v", fi, err)
	}
	if _, err := os.Stat(path + BackupSuffix); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a backup of nothing: %v", err)
	}
}

// Settings config check refuses are not written: the file stays as it
// was, byte for byte, and no backup or temporary file appears.
func TestSaveRefusedWritesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	old := "merchant_name = \"Old\"\n"
	os.WriteFile(path, []byte(old), 0o600)
	f := File{ExpiryMinutes: 500, Currency: "XYZ"}
	f.QFPay.AppCode = "ONLYAPP"
	_, err := Save(path, f, envOf(nil))
	var probs Problems
	if !errors.As(err, &probs) {
		t.Fatalf("err %v, want problems", err)
	}
	for _, want := range []string{"expiry_minutes \"500\": must be a whole number of minutes from 5 to 120", "currency", "QFPAY_KEY"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("problems %q do not name %q", err, want)
		}
	}
	if b, _ := os.ReadFile(path); string(b) != old {
		t.Errorf("the file changed: %q", b)
	}
	if extra := leftovers(t, dir, "config.toml"); len(extra) > 0 {
		t.Errorf("left behind: %v", extra)
	}
}

// A save that fails half way (here: the backup cannot be put in place)
// leaves the file in force as it was and no temporary file behind.
func TestSaveFailedWriteChangesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	old := "merchant_name = \"Old\"\n"
	os.WriteFile(path, []byte(old), 0o600)
	os.MkdirAll(filepath.Join(path+BackupSuffix, "in-the-way"), 0o700)
	if _, err := Save(path, File{MerchantName: "New"}, envOf(nil)); err == nil {
		t.Fatal("saved over a backup that cannot be written")
	}
	if b, _ := os.ReadFile(path); string(b) != old {
		t.Errorf("the file changed: %q", b)
	}
	if extra := leftovers(t, dir, "config.toml", "config.toml.bak"); len(extra) > 0 {
		t.Errorf("left behind: %v", extra)
	}
}

// Run as root (sudo qrkiosk setup), the new file and the backup stay the
// kiosk user's: the service, which runs as that user, can still read them.
func TestSaveKeepsTheOwner(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to give a file to another user")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	os.WriteFile(path, []byte("merchant_name = \"Old\"\n"), 0o600)
	const uid, gid = 65534, 65534
	if err := os.Chown(path, uid, gid); err != nil {
		t.Fatal(err)
	}
	if _, err := Save(path, File{MerchantName: "New"}, envOf(nil)); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + BackupSuffix} {
		fi, _ := os.Stat(p)
		st := fi.Sys().(*syscall.Stat_t)
		if st.Uid != uid || st.Gid != gid {
			t.Errorf("%s owned by %d:%d, want %d:%d", p, st.Uid, st.Gid, uid, gid)
		}
	}
}

// A setting the environment overrides is saved, with a warning that the
// kiosk will go on using the environment's.
func TestSaveWarnsOfTheEnvironment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	c, err := Save(path, File{MerchantName: "Shop", Currency: "HKD"}, envOf(map[string]string{EnvMerchantName: "Other"}))
	if err != nil {
		t.Fatal(err)
	}
	want := "QRKIOSK_MERCHANT_NAME is set in the environment and overrides what the file says"
	if !slices.Contains(c.Warnings, want) || len(c.Warnings) != 1 {
		t.Fatalf("warnings %q, want %q alone", c.Warnings, want)
	}
}

func TestReadFile(t *testing.T) {
	f, err := ReadFile(filepath.Join(t.TempDir(), "none.toml"))
	if err != nil || !reflect.DeepEqual(f, File{}) {
		t.Fatalf("a missing file: %+v %v", f, err)
	}
	f, err = ReadFile(write(t, "merchant_name = \"A\"\n[qfpay]\nkey = \"K\"\n"))
	if err != nil || f.MerchantName != "A" || f.QFPay.Key != "K" {
		t.Fatalf("%+v %v", f, err)
	}
	for body, want := range map[string]string{"merchant_name = ": "as TOML", "colour = \"red\"\n": "unknown keys", "expiry_minutes = \"ten\"\n": "could not be read"} {
		if _, err := ReadFile(write(t, body)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", body, err, want)
		}
	}
}
