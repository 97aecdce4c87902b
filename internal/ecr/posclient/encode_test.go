package posclient

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestEncoderMatchesOdoo: for each payload of Odoo's own vectors the
// encoder writes the same content, digest, plaintext and — AES-CBC with a
// constant IV being deterministic — the same ciphertext, byte for byte.
func TestEncoderMatchesOdoo(t *testing.T) {
	raw, err := os.ReadFile("../testdata/odoo_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Vectors []struct {
			Name                             string
			Key                              string `json:"pos_key"`
			Payload                          [][3]string
			Content, Digest, Plaintext, Body string
		}
	}
	if err := json.Unmarshal(raw, &file); err != nil || len(file.Vectors) == 0 {
		t.Fatalf("vectors: %v", err)
	}
	for _, v := range file.Vectors {
		var p Payload
		for _, f := range v.Payload {
			var val Value
			switch f[1] {
			case "str":
				val = Str(f[2])
			case "none":
				val = Str("")
			case "int":
				n, err := strconv.ParseInt(f[2], 10, 64)
				if err != nil {
					t.Fatal(err)
				}
				val = Int(n)
			case "float":
				x, err := strconv.ParseFloat(f[2], 64)
				if err != nil {
					t.Fatal(err)
				}
				val = Value{text: pyRepr(x)}
			default:
				t.Fatalf("%s: type %q", v.Name, f[1])
			}
			p = append(p, Field{f[0], val})
		}
		body, err := p.Body(v.Key)
		switch {
		case err != nil:
			t.Errorf("%s: %v", v.Name, err)
		case p.Content() != v.Content:
			t.Errorf("%s: content %q; Odoo wrote %q", v.Name, p.Content(), v.Content)
		case Digest(v.Content, v.Key) != v.Digest:
			t.Errorf("%s: digest %s; Odoo's %s", v.Name, Digest(v.Content, v.Key), v.Digest)
		case p.Plaintext(v.Key) != v.Plaintext:
			t.Errorf("%s: plaintext %q; Odoo's %q", v.Name, p.Plaintext(v.Key), v.Plaintext)
		case string(body) != v.Body:
			t.Errorf("%s: body %s; Odoo's %s", v.Name, body, v.Body)
		}
	}
}

// TestOdooPayloads: the payloads are the ones payment_qfpay.js builds.
func TestOdooPayloads(t *testing.T) {
	for _, c := range []struct {
		p    Payload
		want string
	}{
		{Trade(Number(12.34), "wx", "u--1--2"), "{amt=12.34,channel='wx',func_type=1001,out_trade_no='u--1--2'}"},
		{Refund("20250826155400087645770447", "12.50"), "{func_type=1002,orderId='20250826155400087645770447',refund_amount='12.50'}"},
		{CancelRequest(), "{func_type=5001}"},
	} {
		if got := c.p.Content(); got != c.want {
			t.Errorf("content %q; want %q", got, c.want)
		}
	}
}

// TestNumber: a JavaScript number reaches the content as Odoo's JSON-RPC
// and Python's f-string write it.
func TestNumber(t *testing.T) {
	tenth, fifth, a, b := 0.1, 0.2, 10.1, 20.2 // added at run time, as a browser does
	for _, c := range []struct {
		f    float64
		want string
	}{
		{12.34, "12.34"}, {10, "10"}, {10.5, "10.5"}, {tenth + fifth, "0.30000000000000004"},
		{a + b, "30.299999999999997"}, {1e-7, "1e-07"}, {1e20, "100000000000000000000"},
		{1e21, "1e+21"}, {1.5e300, "1.5e+300"}, {math.Copysign(0, -1), "0"}, {-2.5, "-2.5"},
		{0.0001, "0.0001"}, {0.00001, "1e-05"}, {123456789.125, "123456789.125"},
	} {
		if v := Number(c.f); v.text != c.want || v.quoted {
			t.Errorf("Number(%v) = %+v; want bare %s", c.f, v, c.want)
		}
	}
	if v := Number(math.NaN()); v != Str("") {
		t.Errorf("Number(NaN) = %+v; JSON makes it null, Odoo sends ''", v)
	}
}

// TestPyReprIsPythons compares pyRepr with Python's own repr for many
// floats, when Python is here.
func TestPyReprIsPythons(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed")
	}
	r := rand.New(rand.NewPCG(1, 2))
	var in bytes.Buffer
	var floats []float64
	for i := range 3000 {
		var f float64
		switch i % 3 {
		case 0:
			f = math.Float64frombits(r.Uint64())
		case 1:
			f = math.Round(r.Float64()*1e6) / 100 // money-like
		default:
			f = r.NormFloat64() * math.Pow(10, float64(r.IntN(40)-20))
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		floats = append(floats, f)
		fmt.Fprintf(&in, "%s\n", strconv.FormatFloat(f, 'g', -1, 64))
	}
	cmd := exec.Command(py, "-c", "import sys\nfor l in sys.stdin: print(repr(float(l)))")
	cmd.Stdin = &in
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for _, f := range floats {
		if !sc.Scan() {
			t.Fatal("python answered fewer lines")
		}
		if got, want := pyRepr(f), strings.TrimSpace(sc.Text()); got != want {
			t.Errorf("pyRepr(%v) = %s; Python's repr %s", f, got, want)
		}
	}
}

func md5hex(s string) string { return Digest(s, "") }
