package chromiumtest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Page is one browser tab.
type Page struct {
	b       *Browser
	session string
	loaded  chan struct{}

	mu       sync.Mutex
	console  []string
	urls     map[string]string // network request id → URL
	failures []NetworkFailure
}

// NetworkFailure is a request the browser gave up on, with the reason
// DevTools names (a CORS or Local Network Access refusal, say) — what the
// page's script only sees as "Failed to fetch".
type NetworkFailure struct {
	URL           string
	Error         string // net::ERR_FAILED …
	CORSError     string // PreflightMissingAllowOriginHeader, LocalNetworkAccessPermissionDenied …
	BlockedReason string
}

// NewPage opens a blank tab and starts recording its console and failed
// requests.
func (b *Browser) NewPage() *Page {
	b.t.Helper()
	var target struct {
		TargetID string `json:"targetId"`
	}
	if err := b.cdp.call("", "Target.createTarget", map[string]any{"url": "about:blank"}, &target); err != nil {
		b.t.Fatal(err)
	}
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.cdp.call("", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached); err != nil {
		b.t.Fatal(err)
	}
	p := &Page{b: b, session: attached.SessionID, loaded: make(chan struct{}, 1), urls: map[string]string{}}
	b.cdp.on(p.session, p.event)
	for _, domain := range []string{"Page", "Runtime", "Log", "Network"} {
		if err := p.Call(domain+".enable", nil, nil); err != nil {
			b.t.Fatal(err)
		}
	}
	return p
}

// Call sends any DevTools command to the page; result (a pointer, or nil)
// receives its answer.
func (p *Page) Call(method string, params, result any) error {
	return p.b.cdp.call(p.session, method, params, result)
}

func (p *Page) event(method string, params json.RawMessage) {
	switch method {
	case "Page.loadEventFired":
		select {
		case p.loaded <- struct{}{}:
		default:
		}
	case "Runtime.consoleAPICalled":
		var e struct {
			Type string `json:"type"`
			Args []struct {
				Value       any    `json:"value"`
				Description string `json:"description"`
			} `json:"args"`
		}
		json.Unmarshal(params, &e)
		var parts []string
		for _, a := range e.Args {
			if a.Value != nil {
				parts = append(parts, fmt.Sprint(a.Value))
			} else {
				parts = append(parts, a.Description)
			}
		}
		p.logConsole(e.Type + ": " + strings.Join(parts, " "))
	case "Runtime.exceptionThrown":
		var e struct {
			Details struct {
				Text      string `json:"text"`
				Exception struct {
					Description string `json:"description"`
				} `json:"exception"`
			} `json:"exceptionDetails"`
		}
		json.Unmarshal(params, &e)
		p.logConsole("exception: " + e.Details.Text + " " + e.Details.Exception.Description)
	case "Log.entryAdded":
		var e struct {
			Entry struct {
				Source, Level, Text string
			} `json:"entry"`
		}
		json.Unmarshal(params, &e)
		p.logConsole(e.Entry.Level + " (" + e.Entry.Source + "): " + e.Entry.Text)
	case "Network.requestWillBeSent":
		var e struct {
			RequestID string `json:"requestId"`
			Request   struct {
				URL string `json:"url"`
			} `json:"request"`
		}
		json.Unmarshal(params, &e)
		p.mu.Lock()
		p.urls[e.RequestID] = e.Request.URL
		p.mu.Unlock()
	case "Network.loadingFailed":
		var e struct {
			RequestID       string `json:"requestId"`
			ErrorText       string `json:"errorText"`
			BlockedReason   string `json:"blockedReason"`
			CORSErrorStatus struct {
				CORSError string `json:"corsError"`
			} `json:"corsErrorStatus"`
		}
		json.Unmarshal(params, &e)
		p.mu.Lock()
		p.failures = append(p.failures, NetworkFailure{URL: p.urls[e.RequestID], Error: e.ErrorText, CORSError: e.CORSErrorStatus.CORSError, BlockedReason: e.BlockedReason})
		p.mu.Unlock()
	}
}

func (p *Page) logConsole(s string) {
	p.mu.Lock()
	p.console = append(p.console, s)
	p.mu.Unlock()
}

// Console is what the page logged so far: console calls, uncaught
// exceptions and the browser's own messages (CORS refusals among them).
func (p *Page) Console() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.console...)
}

// NetworkFailures are the requests that failed so far.
func (p *Page) NetworkFailures() []NetworkFailure {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]NetworkFailure(nil), p.failures...)
}

// Navigate loads url and waits for its load event.
func (p *Page) Navigate(url string) error {
	select {
	case <-p.loaded:
	default:
	}
	var nav struct {
		ErrorText string `json:"errorText"`
	}
	if err := p.Call("Page.navigate", map[string]any{"url": url}, &nav); err != nil {
		return err
	}
	if nav.ErrorText != "" {
		return fmt.Errorf("navigating to %s: %s", url, nav.ErrorText)
	}
	select {
	case <-p.loaded:
		return nil
	case <-time.After(callTimeout):
		return fmt.Errorf("%s did not finish loading within %v", url, callTimeout)
	}
}

// Eval runs the JavaScript expression in the page, waits for the promise
// it returns, if any, and decodes its JSON value into out (nil: ignored).
// A thrown error or rejected promise is an error carrying its message.
func (p *Page) Eval(expr string, out any) error {
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	err := p.Call("Runtime.evaluate", map[string]any{"expression": expr, "awaitPromise": true, "returnByValue": true}, &r)
	if err != nil {
		return err
	}
	if e := r.ExceptionDetails; e != nil {
		if e.Exception.Description != "" {
			return errors.New(e.Exception.Description)
		}
		return errors.New(e.Text)
	}
	if out == nil || r.Result.Value == nil {
		return nil
	}
	return json.Unmarshal(r.Result.Value, out)
}

// Viewport is a screen to emulate: CSS pixels, device pixels per CSS pixel,
// and whether it is a phone or tablet (meta viewport honoured).
type Viewport struct {
	Width, Height int
	Scale         float64
	Mobile        bool
}

// SetViewport makes the page lay out and render as on v's screen.
func (p *Page) SetViewport(v Viewport) error {
	return p.Call("Emulation.setDeviceMetricsOverride", map[string]any{
		"width": v.Width, "height": v.Height, "deviceScaleFactor": v.Scale, "mobile": v.Mobile,
	}, nil)
}

// Screenshot is the visible page as PNG, in device pixels (the viewport
// times its scale).
func (p *Page) Screenshot() ([]byte, error) {
	var r struct {
		Data string `json:"data"`
	}
	if err := p.Call("Page.captureScreenshot", map[string]any{"format": "png"}, &r); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(r.Data)
}

// SetOffline cuts the page off the network (every request fails, and
// navigator.onLine is false) or restores it.
func (p *Page) SetOffline(offline bool) error {
	return p.Call("Network.emulateNetworkConditions", map[string]any{
		"offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1,
	}, nil)
}
