// Package lan is the kiosk's one HTTPS server for other devices on the
// shop's LAN — the POS's ECR calls, the owner's setup page and the paired
// customer displays — with its own CA and server certificate, per-route
// limits, CORS for cross-origin POS pages, and one-time codes for pairing.
package lan
