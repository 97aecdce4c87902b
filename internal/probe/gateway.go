package probe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"qrkiosk/internal/config"
	"qrkiosk/payment"
	"qrkiosk/payment/qfpay"
	"qrkiosk/payment/scanforpay"
)

// Gateway tests the chosen gateway's credentials with a query for an order
// that does not exist.
func Gateway(ctx context.Context, c config.Config, o Options) Result {
	if c.Gateway == config.GatewayScanForPay {
		return scanForPay(ctx, c.ScanForPay, o)
	}
	return qfPay(ctx, c.QFPay, o)
}

// environments is QFPay's table of environments, or the one o gives.
func (o Options) environments() map[string]string {
	if o.QFPayEnvironments != nil {
		return o.QFPayEnvironments
	}
	envs := map[string]string{}
	for _, n := range qfpay.EnvironmentNames() {
		envs[n] = qfpay.EnvironmentURL(n)
	}
	return envs
}

// qfPay checks QFPay's settings. QFPay refuses the signature (1108) both
// for a key that is not the app code's and for an app code it does not
// know in that environment: on a 1108 the same credentials are tried in
// QFPay's other environments (a query moves no money there either), and
// one that takes them is the environment to choose.
func qfPay(ctx context.Context, qc qfpay.Config, o Options) Result {
	r := Result{Part: PartGateway}
	if !qc.HasCredentials() {
		r.Text, r.Field = "No QFPay app code and key: the kiosk runs in demo mode and takes no real money.", "qfpay.appcode"
		if qc.AppCode != "" {
			r.Field = "qfpay.key"
		}
		return r
	}
	envs := o.environments()
	env, base := environmentOf(qc, envs)
	cc := checkQFPay(ctx, qc, base, o)
	where := "QFPay"
	if env != "" {
		where = fmt.Sprintf("QFPay's %s environment", env)
	}
	switch cc.Verdict {
	case payment.CredentialsAccepted:
		r.OK = true
		r.Text = fmt.Sprintf("%s accepted the app code and key", where)
		if qc.MchID != "" {
			r.Text += " and the merchant id " + qc.MchID
		}
		r.Text += "."
	case payment.CredentialsSignatureRefused:
		r.Text, r.Field = "The QFPay key does not match the app code: the gateway refused the signature (1108).", "qfpay.key"
		if env == "" {
			break
		}
		other, unasked := otherEnvironment(ctx, qc, env, envs, o)
		switch {
		case other != "":
			r.Text = fmt.Sprintf("This app code and key are for QFPay's %s environment, not %s: choose %s.", other, env, other)
			r.Field = "qfpay.env"
		case unasked:
			r.Text = "The QFPay key does not match the app code: the gateway refused the signature (1108), and QFPay's other environments could not be asked whether the app code is theirs."
		}
	case payment.CredentialsWrongMerchant:
		r.Field = "qfpay.mchid"
		switch {
		case cc.Code != qfpay.CodeParamError:
			r.Text = fmt.Sprintf("%s refused the merchant account: %s (%s).", where, gatewayWords(cc), cc.Code)
		case qc.MchID == "":
			r.Text = fmt.Sprintf("%s needs the merchant id (mchid) it issued with this app code (%s: %s).", where, cc.Code, gatewayWords(cc))
		default:
			r.Text = fmt.Sprintf("%s refused the merchant id %s: it is not one of this app code's (%s: %s).", where, qc.MchID, cc.Code, gatewayWords(cc))
		}
	case payment.CredentialsRefused:
		if cc.Field == "udid" {
			r.Text, r.Field = fmt.Sprintf("%s refused this kiosk's device id %q: %s (%s).", where, qc.UDID, gatewayWords(cc), cc.Code), "udid"
			break
		}
		r.Text = fmt.Sprintf("%s refused the test: %s (%s).", where, gatewayWords(cc), cc.Code)
	default:
		r.Text = unreachable("QFPay", base, cc.Err)
	}
	return r
}

// environmentOf names the environment the settings use ("" for a base URL
// of their own) and its base URL.
func environmentOf(qc qfpay.Config, envs map[string]string) (env, base string) {
	if qc.BaseURL != "" {
		return "", strings.TrimRight(qc.BaseURL, "/")
	}
	env = strings.ToLower(qc.Env)
	if env == "" {
		env = qfpay.DefaultEnvironment
	}
	return env, envs[env]
}

func checkQFPay(ctx context.Context, qc qfpay.Config, base string, o Options) payment.CredentialCheck {
	qc.Env, qc.BaseURL = "", base
	cl, err := qc.NewClient(qfpay.WithHTTPClient(&http.Client{Timeout: o.timeout()}))
	if err != nil {
		return payment.CredentialCheck{Verdict: payment.CredentialsUnreachable, Err: err}
	}
	return cl.CheckCredentials(ctx)
}

// otherEnvironment asks QFPay's other environments at once: the one that
// takes the credentials, if any, and whether one could not be asked.
func otherEnvironment(ctx context.Context, qc qfpay.Config, env string, envs map[string]string, o Options) (found string, unasked bool) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, base := range envs {
		if name == env {
			continue
		}
		wg.Go(func() {
			cc := checkQFPay(ctx, qc, base, o)
			mu.Lock()
			defer mu.Unlock()
			switch cc.Verdict {
			case payment.CredentialsSignatureRefused:
			case payment.CredentialsUnreachable:
				unasked = true
			default:
				// Anything but 1108 means QFPay there knows the app
				// code and takes its signature.
				if found == "" || name < found {
					found = name
				}
			}
		})
	}
	wg.Wait()
	return found, unasked
}

// scanForPay checks ScanForPay's settings.
func scanForPay(ctx context.Context, sc scanforpay.Config, o Options) Result {
	r := Result{Part: PartGateway}
	if !sc.HasCredentials() {
		r.Text, r.Field = "No ScanForPay partner no, store no and key: the kiosk runs in demo mode and takes no real money.", "scanforpay.partner_no"
		return r
	}
	_, base := sc.Endpoint()
	cl, err := sc.NewClient(scanforpay.WithHTTPClient(&http.Client{Timeout: o.timeout()}))
	if err != nil {
		r.Text = unreachable("ScanForPay", base, err)
		return r
	}
	cc := cl.CheckCredentials(ctx)
	switch cc.Verdict {
	case payment.CredentialsAccepted:
		r.OK, r.Text = true, fmt.Sprintf("ScanForPay accepted partner no %s, store no %s and the key.", sc.PartnerNo, sc.StoreNo)
	case payment.CredentialsSignatureRefused:
		r.Text = fmt.Sprintf("The ScanForPay key does not match partner no %s: the gateway's answer (code %s: %s) is signed with another key.", sc.PartnerNo, cc.Code, gatewayWords(cc))
		r.Field = "scanforpay.key"
	case payment.CredentialsUnknownAccount:
		r.Text = fmt.Sprintf("ScanForPay at %s does not know partner no %s: it answered without a signature (code %s: %s).", base, sc.PartnerNo, cc.Code, gatewayWords(cc))
		r.Field = "scanforpay.partner_no"
	case payment.CredentialsWrongMerchant:
		r.Text = fmt.Sprintf("ScanForPay refused store no %s for partner no %s (code %s: %s).", sc.StoreNo, sc.PartnerNo, cc.Code, gatewayWords(cc))
		r.Field = "scanforpay.store_no"
	case payment.CredentialsRefused:
		r.Text = fmt.Sprintf("ScanForPay refused the test (code %s: %s).", cc.Code, gatewayWords(cc))
	default:
		r.Text = unreachable("ScanForPay", base, cc.Err)
	}
	return r
}

// gatewayWords is the gateway's own message for its answer.
func gatewayWords(cc payment.CredentialCheck) string {
	if m := strings.TrimSpace(cc.Message); m != "" {
		return strings.TrimSuffix(m, ".")
	}
	return "no reason given"
}

func unreachable(gateway, base string, err error) string {
	why := "no answer"
	if err != nil {
		why = err.Error()
	}
	var te *payment.TransportError
	if errors.As(err, &te) && te.Status != 0 {
		why = fmt.Sprintf("it answered HTTP %d", te.Status)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		why = "it did not answer in time"
	}
	return fmt.Sprintf("%s at %s could not be reached: %s.", gateway, base, strings.TrimSuffix(why, "."))
}
