// Package webdisplay is the customer display as a web page, for any tablet
// on the shop's LAN: the page and its files, the hub that sends the paired
// displays what the kiosk's customer screen shows (the views of
// display/view, over a websocket), and the pairing that gives a display its
// token for a one-time code shown on the kiosk. Its routes are mounted on
// the kiosk's one LAN server (internal/lan).
//
// A display never shows a stale QR: the page draws one only while its link
// is live (a heartbeat well within the stale time) and the kiosk's last
// view offers it with time left by the kiosk's clock; a new link takes the
// kiosk's current view, never a queued one. A display cannot act: it sends
// nothing, and a message from it ends its link.
package webdisplay
