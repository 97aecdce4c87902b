package setup

import (
	"context"
	"errors"
	"reflect"

	"qrkiosk/internal/config"
	"qrkiosk/internal/probe"
)

// Test proves one part of the settings f, as they would be read once
// saved at path: when config check refuses the part's own settings it
// names them (refused) and nothing is tried; otherwise the part's probe
// says what works or what to fix. What config check says of other parts
// does not stop the test. The page's Test buttons and `qrkiosk setup`
// test through it.
func Test(ctx context.Context, path string, f config.File, part probe.Part, l *Logo, getenv func(string) string, o probe.Options) (r probe.Result, refused FieldErrors) {
	c, _, err := config.Check(path, f, getenv)
	var probs config.Problems
	if errors.As(err, &probs) {
		if mine := sectionErrors(problemFields(probs), string(part)); len(mine) > 0 {
			return probe.Result{Part: part}, mine
		}
	}
	switch part {
	case probe.PartGateway:
		return probe.Gateway(ctx, c, o), nil
	case probe.PartRelay:
		return probe.Relay(ctx, c, o), nil
	}
	return probe.Printer(ctx, printerSettings(f, c, l), o), nil
}

// printerSettings are the [printer] settings of f, read by key: the test
// slip needs the address and the paper, whatever else [printer] holds.
func printerSettings(f config.File, c config.Config, l *Logo) probe.PrinterSettings {
	v := reflect.ValueOf(f)
	get := func(key string) string {
		fv, ok := fileField(v, key)
		if !ok {
			return ""
		}
		return text(fv)
	}
	p := probe.PrinterSettings{Address: get("printer.address"), Width: 576, Merchant: c.MerchantName}
	if get("printer.width_mm") == "58" {
		p.Width = 384
	}
	if l != nil {
		p.Logo = l.img
	} else if c.Logo != "" {
		p.Logo = readLogo(c.Logo)
	}
	return p
}
