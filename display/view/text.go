package view

import (
	"qrkiosk/payment"
	"qrkiosk/payment/qfpay"
)

// Every text the customer reads, in the three languages a Hong Kong counter
// shows; each screen stacks them in the order the order's wallet wants
// (Order). The bundled CJK font holds exactly these characters plus the
// common hanzi: after editing a text run assets/subset.sh
// (display's TestTextsHaveGlyphs says when).
var (
	txtWelcome   = payment.Names{En: "Welcome", ZhHant: "歡迎光臨", ZhHans: "欢迎光临"}
	txtWeAccept  = payment.Names{En: "We accept", ZhHant: "接受以下付款方式", ZhHans: "接受以下付款方式"}
	txtAmount    = payment.Names{En: "Amount", ZhHant: "金額", ZhHans: "金额"}
	txtPreparing = payment.Names{En: "Preparing QR code…", ZhHant: "正在準備二維碼⋯", ZhHans: "正在准备二维码⋯"}
	txtScanToPay = payment.Names{En: "Scan to pay", ZhHant: "請掃碼付款", ZhHans: "请扫码付款"}
	txtExpiresIn = payment.Names{En: "Expires in", ZhHant: "剩餘時間", ZhHans: "剩余时间"}
	// The cashier withdrew the order (or its time ran out) and the gateway
	// is being told: the QR must not be scanned any more.
	txtCancelling = payment.Names{En: "Cancelling…", ZhHant: "正在取消⋯", ZhHans: "正在取消⋯"}
	txtPaid       = payment.Names{En: "Paid — thank you", ZhHant: "付款成功，謝謝！", ZhHans: "支付成功，谢谢！"}
	txtFailed     = payment.Names{En: "Payment failed", ZhHant: "付款失敗", ZhHans: "支付失败"}
	txtExpired    = payment.Names{En: "This QR code has expired", ZhHant: "此二維碼已過期", ZhHans: "此二维码已过期"}
	txtAskCashier = payment.Names{En: "Please ask the cashier to try again", ZhHant: "請向收銀員要求重新付款", ZhHans: "请向收银员要求重新付款"}
	txtCancelled  = payment.Names{En: "Payment cancelled", ZhHant: "付款已取消", ZhHans: "支付已取消"}
	// An order that ended unpaid on a wallet without cancel (PayMe,
	// UnionPay, FPS, Octopus): its QR stays payable at the gateway for a
	// while, so the customer must not scan it any more.
	txtDoNotPay = payment.Names{
		En:     "Do not pay this QR code. Paid already? Tell the cashier.",
		ZhHant: "請勿再用此二維碼付款。如已付款，請告知收銀員。",
		ZhHans: "请勿再用此二维码付款。如已付款，请告知收银员。",
	}
	txtDemo = payment.Names{En: "DEMO — no real money", ZhHant: "示範模式", ZhHans: "演示模式"}

	// The customer's own payment code (CPM): the cashier scans the code
	// the wallet app shows, and the customer may have to approve it there.
	txtShowCode       = payment.Names{En: "Show your payment code to the scanner", ZhHant: "請向掃描器出示付款碼", ZhHans: "请向扫描器出示付款码"}
	txtPaymentCode    = payment.Names{En: "Payment code", ZhHant: "付款碼", ZhHans: "付款码"}
	txtProcessing     = payment.Names{En: "Processing payment…", ZhHant: "正在處理付款⋯", ZhHans: "正在处理付款⋯"}
	txtConfirmOnPhone = payment.Names{En: "Confirm the payment on your phone", ZhHant: "請在手機上確認付款", ZhHans: "请在手机上确认付款"}
	txtConfirmHint    = payment.Names{En: "Open your wallet app and approve it", ZhHant: "請打開錢包應用程式批准付款", ZhHans: "请打开钱包应用批准付款"}
	// Not confirmed within 2 minutes: taken back, or (a wallet without
	// cancel) still open on the phone, where it must not be approved now.
	reasonNotConfirmed = payment.Names{
		En:     "Not confirmed in time. Ask the cashier to try again.",
		ZhHant: "付款未及時確認，請向收銀員要求重新付款。",
		ZhHans: "付款未及时确认，请向收银员要求重新付款。",
	}
	txtDoNotConfirm = payment.Names{
		En:     "Do not approve it on your phone. Approved? Tell the cashier.",
		ZhHant: "請勿在手機上批准。如已批准，請告知收銀員。",
		ZhHans: "请勿在手机上批准。如已批准，请告知收银员。",
	}
)

// Plain sentences for a failed payment, by the gateway's respcd. The
// gateway's own texts are written for merchants ("Bank error, confirm that
// the payment wallet is functionable"); a customer needs to know whether to
// try again, use another wallet or ask the cashier.
var (
	reasonDefault = payment.Names{
		En:     "Payment did not go through. Please try again or use another wallet.",
		ZhHant: "付款未能完成，請再試一次或使用其他錢包。",
		ZhHans: "支付未能完成，请再试一次或使用其他钱包。",
	}
	reasonInsufficient = payment.Names{
		En:     "Not enough balance. Please use another wallet or card.",
		ZhHant: "餘額不足，請使用其他錢包或銀行卡。",
		ZhHans: "余额不足，请使用其他钱包或银行卡。",
	}
	reasonDeclined = payment.Names{
		En:     "Your bank or wallet declined the payment. Please try another wallet.",
		ZhHant: "您的銀行或錢包拒絕了這筆付款，請使用其他錢包。",
		ZhHans: "您的银行或钱包拒绝了这笔付款，请使用其他钱包。",
	}
	reasonBusy = payment.Names{
		En:     "The payment system is busy. Please try again in a moment.",
		ZhHant: "付款系統繁忙，請稍後再試。",
		ZhHans: "支付系统繁忙，请稍后再试。",
	}
	reasonSlowNetwork = payment.Names{
		En:     "The network is slow. If you have already paid, do not pay again: the cashier will check.",
		ZhHant: "網絡緩慢。如已付款，請勿重複付款，收銀員會為您查詢。",
		ZhHans: "网络缓慢。如已付款，请勿重复付款，收银员会为您查询。",
	}
	reasonPaymentCode = payment.Names{
		En:     "Your payment code is wrong or has expired. Please refresh it and try again.",
		ZhHant: "付款碼錯誤或已過期，請重新整理後再試。",
		ZhHans: "付款码错误或已过期，请刷新后再试。",
	}
	reasonUnionPayOverseas = payment.Names{
		En:     "Please use UnionPay's overseas payment code.",
		ZhHant: "請使用銀聯境外付款碼。",
		ZhHans: "请使用银联境外付款码。",
	}
	reasonShop = payment.Names{
		En:     "The shop cannot take this payment right now. Please ask the cashier.",
		ZhHant: "本店暫時未能接受此付款，請向收銀員查詢。",
		ZhHans: "本店暂时无法接受此付款，请向收银员查询。",
	}
)

// failureReasons word QFPay's refusal codes for the customer; any other
// code (ScanForPay's among them) gets reasonDefault.
var failureReasons = map[payment.Code]payment.Names{
	qfpay.CodeInsufficientBalance: reasonInsufficient,

	"1204": reasonDeclined, // bank error
	"1250": reasonDeclined, // transaction forbidden
	"1294": reasonDeclined, // prohibited by the bank

	"1205":             reasonBusy, // failed, try again later
	qfpay.CodeBankBusy: reasonBusy,
	"1296":             reasonBusy, // slow, try later or another method

	"1295":                         reasonSlowNetwork,
	qfpay.CodeSlowNetworkDontRepay: reasonSlowNetwork,

	qfpay.CodeBadPaymentCode:  reasonPaymentCode,
	qfpay.CodeBadCustomerCode: reasonPaymentCode,

	"1212": reasonUnionPayOverseas,

	qfpay.CodeOrderExpired: {En: "This QR code has expired.", ZhHant: "此二維碼已過期。", ZhHans: "此二维码已过期。"},

	// The kiosk's or the merchant account's fault, never the customer's.
	qfpay.CodeMaintenance:    reasonShop,
	qfpay.CodeFormatError:    reasonShop,
	qfpay.CodeParamError:     reasonShop,
	"1105":                   reasonShop, // device not activated
	"1106":                   reasonShop,
	"1107":                   reasonShop,
	qfpay.CodeSignatureError: reasonShop,
	"1203":                   reasonShop, // merchant account error
	"1241":                   reasonShop, // store problems
	"1242":                   reasonShop,
	"1243":                   reasonShop,
	"1251":                   reasonShop,
	"1252":                   reasonShop,
	"1254":                   reasonShop,
	qfpay.CodeAmountWrong:    reasonShop,
	qfpay.CodeOrderMismatch:  reasonShop,
	qfpay.CodeOrderNotFound:  reasonShop,
}

// failureReason is the customer's explanation of a failed payment.
func failureReason(c payment.Code) payment.Names {
	if r, ok := failureReasons[c]; ok {
		return r
	}
	return reasonDefault
}
