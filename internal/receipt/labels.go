package receipt

import "qrkiosk/payment"

// The slips' labels. A customer reads the sale and refund slips: English,
// traditional and simplified Chinese. The summary and the test slip are the
// shop's: English and traditional. Every character here must be in the
// bundled fonts (TestTextsHaveGlyphs; assets/fontdata/subset-sc.sh adds
// new simplified ones).
var (
	lblReceipt      = payment.Names{En: "Receipt", ZhHant: "收據", ZhHans: "收据"}
	lblRefundSlip   = payment.Names{En: "Refund receipt", ZhHant: "退款收據", ZhHans: "退款收据"}
	lblCopy         = payment.Names{En: "COPY", ZhHant: "副本", ZhHans: "副本"}
	lblAmount       = payment.Names{En: "Amount", ZhHant: "金額", ZhHans: "金额"}
	lblRefundAmount = payment.Names{En: "Refund amount", ZhHant: "退款金額", ZhHans: "退款金额"}
	lblRefunded     = payment.Names{En: "Refunded", ZhHant: "已退款", ZhHans: "已退款"}
	lblDate         = payment.Names{En: "Date", ZhHant: "日期", ZhHans: "日期"}
	lblWallet       = payment.Names{En: "Paid with", ZhHant: "付款方式", ZhHans: "付款方式"}
	lblRefundedTo   = payment.Names{En: "Refunded to", ZhHant: "退回至", ZhHans: "退回至"}
	lblTxn          = payment.Names{En: "Transaction no.", ZhHant: "交易編號", ZhHans: "交易编号"}
	lblOrder        = payment.Names{En: "Order no.", ZhHant: "訂單編號", ZhHans: "订单编号"}
	lblPOS          = payment.Names{En: "POS ref.", ZhHant: "收銀機單號", ZhHans: "收银机单号"}
	lblRefundNo     = payment.Names{En: "Refund no.", ZhHant: "退款編號", ZhHans: "退款编号"}
	lblOrigTxn      = payment.Names{En: "Original transaction", ZhHant: "原交易編號", ZhHans: "原交易编号"}
	lblKeep         = payment.Names{En: "Keep this slip for a refund", ZhHant: "退款時請出示此單", ZhHans: "退款时请出示此单"}
	lblThanks       = payment.Names{En: "Thank you", ZhHant: "多謝惠顧", ZhHans: "谢谢惠顾"}

	statusNames = map[Status]payment.Names{
		Paid:           {En: "PAID", ZhHant: "已付款", ZhHans: "已付款"},
		Refunded:       {En: "REFUNDED", ZhHant: "已退款", ZhHans: "已退款"},
		PartlyRefunded: {En: "PARTLY REFUNDED", ZhHant: "部分退款", ZhHans: "部分退款"},
	}
	lblRefundDone = payment.Names{En: "REFUND", ZhHant: "退款", ZhHans: "退款"}

	lblSummary     = payment.Names{En: "End-of-day summary", ZhHant: "日結報告"}
	lblPeriod      = payment.Names{En: "Period", ZhHant: "期間"}
	lblPrinted     = payment.Names{En: "Printed", ZhHant: "列印時間"}
	lblSales       = payment.Names{En: "Sales", ZhHant: "銷售"}
	lblRefunds     = payment.Names{En: "Refunds", ZhHant: "退款"}
	lblTotal       = payment.Names{En: "Total", ZhHant: "合計"}
	lblNet         = payment.Names{En: "Net", ZhHant: "淨額"}
	lblNoSales     = payment.Names{En: "No sales", ZhHant: "沒有銷售"}
	lblChecked     = payment.Names{En: "Checked against the gateway: all match", ZhHant: "已與支付平台核對：全部相符"}
	lblDiffers     = payment.Names{En: "Checked against the gateway: %d differ, see Today & refunds", ZhHant: "已與支付平台核對：%d 筆不符"}
	lblUnconfirmed = payment.Names{En: "%d the gateway could not confirm", ZhHant: "%d 筆支付平台未能確認"}
	lblNotChecked  = payment.Names{En: "Not checked against the gateway", ZhHant: "未與支付平台核對"}

	lblTest      = payment.Names{En: "Printer test", ZhHant: "打印測試"}
	lblTestPaper = payment.Names{En: "Paper", ZhHant: "紙寬"}
	lblTestAddr  = payment.Names{En: "Printer", ZhHant: "打印機"}
	lblTestTime  = payment.Names{En: "Time", ZhHant: "時間"}
	lblTestOK    = payment.Names{En: "All four sides of the frame and every line readable: the printer is set up.", ZhHant: "框線四邊齊全、每行清楚即可。"}
)
