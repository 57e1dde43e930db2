#!/usr/bin/env python3
"""Split a loopback pcap of memberlist traffic into raw packets and streams.

Usage: extract_pcap.py CAPTURE.pcap OUTDIR

Writes OUTDIR/udp-NNNN-<src>-<dst>.bin for every UDP datagram and
OUTDIR/tcp-NNNN-<src>-<dst>.bin for every TCP direction of every connection
(payloads concatenated in sequence order, retransmissions dropped), and prints
one line per file with the first bytes. Only Ethernet/IPv4 (Linux `lo`).
"""
import os
import struct
import sys


def packets(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic != 0xA1B2C3D4:
        raise SystemExit("not a little-endian microsecond pcap")
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack("<IIII", data[off:off + 16])
        off += 16
        yield data[off:off + incl]
        off += incl


def main():
    src, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    udp_n = 0
    streams = {}
    order = []
    for frame in packets(src):
        if len(frame) < 38 or struct.unpack(">H", frame[12:14])[0] != 0x0800:
            continue
        ip = frame[14:]
        ihl = (ip[0] & 0x0F) * 4
        total = struct.unpack(">H", ip[2:4])[0]
        proto = ip[9]
        body = ip[ihl:total]
        if len(ip) < total:  # the capture was cut short mid-frame
            continue
        sport, dport = struct.unpack(">HH", body[:4])
        if proto == 17:
            payload = body[8:]
            name = "udp-%04d-%d-%d.bin" % (udp_n, sport, dport)
            udp_n += 1
            with open(os.path.join(out, name), "wb") as f:
                f.write(payload)
            print(name, len(payload), payload[:12].hex())
        elif proto == 6:
            seq = struct.unpack(">I", body[4:8])[0]
            doff = (body[12] >> 4) * 4
            flags = body[13]
            key = (sport, dport)
            if flags & 0x02:  # SYN starts a new connection direction
                streams[key] = {"isn": seq + 1, "segs": {}}
                order.append(key)
                continue
            payload = body[doff:]
            if payload and key in streams:
                rel = (seq - streams[key]["isn"]) & 0xFFFFFFFF
                streams[key]["segs"].setdefault(rel, payload)
    seen = {}
    for i, key in enumerate(order):
        st = streams[key]
        buf = bytearray()
        for rel in sorted(st["segs"]):
            seg = st["segs"][rel]
            if rel < len(buf):
                seg = seg[len(buf) - rel:]
            elif rel > len(buf):
                break
            buf += seg
        if not buf:
            continue
        name = "tcp-%04d-%d-%d.bin" % (i, key[0], key[1])
        with open(os.path.join(out, name), "wb") as f:
            f.write(bytes(buf))
        print(name, len(buf), bytes(buf[:12]).hex())


if __name__ == "__main__":
    main()
