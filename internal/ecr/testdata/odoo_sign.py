#!/usr/bin/env python3
"""Test vectors in the exact request format Odoo's POS sends a QFPay terminal.

sign() is our own short transcription of what Odoo's pos_qfpay module does in
qfpay_sign_request (models/pos_payment_method.py): fields sorted by name,
written {k='str',k=number} by a Python f-string, digest = upper-case MD5 of
that text followed by the POS-KEY, the whole AES-CBC encrypted with the
POS-KEY's bytes as the key, IV 'qfpay202306_hjsh', PKCS#7, base64. The page
then POSTs JSON.stringify(that base64 string).

Run: python3 odoo_sign.py > odoo_vectors.json (needs python3-cryptography).
The keys below are test keys, not anybody's POS-KEY.
"""
import base64
import hashlib
import json

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

IV = 'qfpay202306_hjsh'
KEY32 = '0123456789abcdef0123456789ABCDEF'
KEY16 = 'qrkiosk-test-key'
TRADE_NO = 'f1c2e3d4-a5b6-4c7d-8e9f-0a1b2c3d4e5f--17--3'
LONG_TRADE_NO = '9d2b7a1e-3c4f-4e5a-8b6c-7d8e9f0a1b2c--1234567890--9876543210'


def sign(payload, key):
    items = sorted((k, '' if v is None else v) for k, v in payload.items())
    content = '{' + ','.join(f"{k}='{v}'" if isinstance(v, str) else f"{k}={v}" for k, v in items) + '}'
    digest = hashlib.md5((content + key).encode('utf-8')).hexdigest().upper()
    plaintext = "{content:" + content + ", digest:'" + digest + "'}"
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext.encode('utf-8')) + padder.finalize()
    enc = Cipher(algorithms.AES(key.encode('utf-8')), modes.CBC(IV.encode('utf-8'))).encryptor()
    sealed = base64.b64encode(enc.update(padded) + enc.finalize()).decode('utf-8')
    return content, digest, plaintext, json.dumps(sealed)


def kind(v):
    return 'none' if v is None else type(v).__name__


CASES = [
    ('trade amt 12.34', KEY32, {'func_type': 1001, 'amt': 12.34, 'channel': 'wx', 'out_trade_no': TRADE_NO}),
    ('trade amt 10 (int)', KEY32, {'func_type': 1001, 'amt': 10, 'channel': 'alipay', 'out_trade_no': TRADE_NO}),
    ('trade amt 10.5', KEY32, {'func_type': 1001, 'amt': 10.5, 'channel': 'payme', 'out_trade_no': TRADE_NO}),
    ('trade amt 10.0 (float)', KEY32, {'func_type': 1001, 'amt': 10.0, 'channel': 'fps', 'out_trade_no': TRADE_NO}),
    ('trade long out_trade_no', KEY32, {'func_type': 1001, 'amt': 1234.5, 'channel': 'union', 'out_trade_no': LONG_TRADE_NO}),
    ('trade 16-char key', KEY16, {'func_type': 1001, 'amt': 88.8, 'channel': 'octopus', 'out_trade_no': TRADE_NO}),
    ('trade float artefact', KEY32, {'func_type': 1001, 'amt': 10.1 + 20.2, 'channel': 'wx', 'out_trade_no': TRADE_NO}),
    ('trade card channel', KEY32, {'func_type': 1001, 'amt': 5, 'channel': 'card_payment', 'out_trade_no': TRADE_NO}),
    ('refund 12.50', KEY32, {'func_type': 1002, 'orderId': '20250826155400087645770447', 'refund_amount': '12.50'}),
    ('refund without transaction id', KEY32, {'func_type': 1002, 'orderId': None, 'refund_amount': '3.00'}),
    ('cancel request', KEY32, {'func_type': 5001}),
    ('cancel request 16-char key', KEY16, {'func_type': 5001}),
]

vectors = []
for name, key, payload in CASES:
    content, digest, plaintext, body = sign(payload, key)
    vectors.append({
        'name': name,
        'pos_key': key,
        'payload': [[k, kind(v), '' if v is None else str(v) if isinstance(v, str) else repr(v)] for k, v in payload.items()],
        'content': content,
        'digest': digest,
        'plaintext': plaintext,
        'body': body,
    })
# One vector a line, so a diff shows which one changed.
print('{"generator": "odoo_sign.py", "vectors": [')
print(',\n'.join(json.dumps(v, ensure_ascii=False) for v in vectors))
print(']}')
