#!/usr/bin/env python3
"""An outside verifier of a Foryou transparency log, written from the public specifications
only (RFC 6962, RFC 8032, C2SP tlog-tiles, tlog-checkpoint, signed-note, tlog-cosignature), with
the Python standard library and no Foryou code: it fetches the checkpoint, checks the log's
Ed25519 signature (and a witness's cosignature), fetches every level-0 hash tile and every entry
bundle, checks each bundle's entries hash to its tile, and recomputes the root.

usage: verify-log.py --server http://HOST:PORT --key VKEY [--witness-key VKEY]
       verify-log.py --dir DIR --key VKEY [--witness-key VKEY]
"""

import argparse
import base64
import hashlib
import os
import sys
import urllib.request

# --- Ed25519 verification (RFC 8032, section 5.1.7), on extended coordinates -----------------

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _add(a, b):
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    aa = (y1 - x1) * (y2 - x2) % P
    bb = (y1 + x1) * (y2 + x2) % P
    cc = t1 * 2 * D * t2 % P
    dd = z1 * 2 * z2 % P
    e, f, g, h = bb - aa, dd - cc, dd + cc, bb + aa
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _mul(s, pt):
    q = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            q = _add(q, pt)
        pt = _add(pt, pt)
        s >>= 1
    return q


def _equal(a, b):
    return (a[0] * b[2] - b[0] * a[2]) % P == 0 and (a[1] * b[2] - b[1] * a[2]) % P == 0


def _recover_x(y, sign):
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None
    if (x & 1) != sign:
        x = P - x
    return x


def _decompress(s):
    if len(s) != 32:
        return None
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    if x is None:
        return None
    return (x, y, 1, x * y % P)


_GY = 4 * pow(5, P - 2, P) % P
_GX = _recover_x(_GY, 0)
G = (_GX, _GY, 1, _GX * _GY % P)


def ed25519_verify(public, msg, sig):
    if len(public) != 32 or len(sig) != 64:
        return False
    a = _decompress(public)
    r = _decompress(sig[:32])
    if a is None or r is None:
        return False
    s = int.from_bytes(sig[32:], "little")
    if s >= L:
        return False
    h = int.from_bytes(hashlib.sha512(sig[:32] + public + msg).digest(), "little") % L
    return _equal(_mul(s, G), _add(r, _mul(h, a)))


# --- Signed notes (C2SP signed-note) and cosignatures (C2SP tlog-cosignature) ----------------


def parse_vkey(vkey):
    name, key_id, material = vkey.strip().split("+", 2)
    raw = base64.b64decode(material)
    want = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4]
    if want.hex() != key_id:
        raise SystemExit(f"FAILED: the key id of {name} does not match its key")
    return name, bytes.fromhex(key_id), raw[0], raw[1:]


def verify_note(note, vkey, cosigner=False):
    """True when `note` carries a valid signature by `vkey` (a cosignature when `cosigner`)."""
    name, key_id, alg, public = parse_vkey(vkey)
    text, _, sigs = note.rpartition(b"\n\n")
    text += b"\n"
    for line in sigs.decode().split("\n"):
        if not line.startswith("\u2014 "):
            continue
        sig_name, _, b64 = line[2:].rpartition(" ")
        if sig_name != name:
            continue
        raw = base64.b64decode(b64)
        if raw[:4] != key_id:
            continue
        if cosigner:
            if alg != 0x04 or len(raw) != 4 + 8 + 64:
                return False
            t = int.from_bytes(raw[4:12], "big")
            msg = b"cosignature/v1\ntime %d\n" % t + text
            return ed25519_verify(public, msg, raw[12:])
        if alg != 0x01:
            return False
        return ed25519_verify(public, text, raw[4:])
    return False


# --- Tiles (C2SP tlog-tiles) and the tree (RFC 6962) -----------------------------------------


def tile_index(n):
    parts = []
    while True:
        parts.append("%03d" % (n % 1000))
        n //= 1000
        if n == 0:
            break
    parts.reverse()
    return "/".join(["x" + p for p in parts[:-1]] + [parts[-1]])


def tile_path(kind, n, width):
    p = f"tile/{kind}/{tile_index(n)}"
    return p if width == 256 else f"{p}.p/{width}"


def leaf_hash(entry):
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def root(leaves):
    """MTH(D[n]) of RFC 6962, bottom-up with a stack of perfect subtrees."""
    stack = []
    for h in leaves:
        node = (0, h)
        while stack and stack[-1][0] == node[0]:
            height, left = stack.pop()
            node = (height + 1, node_hash(left, node[1]))
        stack.append(node)
    if not stack:
        return hashlib.sha256(b"").digest()
    h = stack[-1][1]
    for _, left in reversed(stack[:-1]):
        h = node_hash(left, h)
    return h


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server")
    ap.add_argument("--dir")
    ap.add_argument("--key", required=True)
    ap.add_argument("--witness-key")
    args = ap.parse_args()

    def fetch(path):
        if args.server:
            with urllib.request.urlopen(f"{args.server.rstrip('/')}/log/{path}", timeout=20) as r:
                return r.read()
        with open(os.path.join(args.dir, path), "rb") as f:
            return f.read()

    # Known answer of RFC 8032, section 7.1, test 1, before trusting the arithmetic above.
    assert ed25519_verify(
        bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"),
        b"",
        bytes.fromhex(
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bac"
            "c61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        ),
    ), "Ed25519 known answer"

    note = fetch("checkpoint")
    if not verify_note(note, args.key):
        raise SystemExit("FAILED: the checkpoint is not signed by the pinned key")
    origin, size, root_b64 = note.split(b"\n")[:3]
    size = int(size)
    if origin.decode() != args.key.split("+")[0]:
        raise SystemExit("FAILED: the checkpoint's origin is not the key's name")
    if args.witness_key and not verify_note(note, args.witness_key, cosigner=True):
        raise SystemExit("FAILED: no valid cosignature by the witness")

    leaves = []
    for n in range((size + 255) // 256):
        width = min(256, size - n * 256)
        hashes = fetch(tile_path("0", n, width))
        bundle = fetch(tile_path("entries", n, width))
        entries, i = [], 0
        while i < len(bundle):
            k = int.from_bytes(bundle[i : i + 2], "big")
            entries.append(bundle[i + 2 : i + 2 + k])
            i += 2 + k
        if len(hashes) != 32 * width or len(entries) != width or i != len(bundle):
            raise SystemExit(f"FAILED: tile {n} does not hold {width} hashes and entries")
        for j, e in enumerate(entries):
            if leaf_hash(e) != hashes[32 * j : 32 * j + 32]:
                raise SystemExit(f"FAILED: entry {n * 256 + j} does not match its tile")
            leaves.append(leaf_hash(e))
    if root(leaves) != base64.b64decode(root_b64):
        raise SystemExit("FAILED: the tiles do not hash to the checkpoint's root")
    print(f"OK {origin.decode()} {size} entries, root {root_b64.decode()}"
          + (", witnessed" if args.witness_key else ""))


if __name__ == "__main__":
    main()
