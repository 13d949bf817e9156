#!/usr/bin/python3
# garbagedns.py ADDR PORT SECONDS - a MOCK DNS server, used only because
# no real server sends what this one does: every reply is broken, in
# turn: random bytes; the query's id with a header that promises records
# it does not carry; a name whose compression pointer points at itself;
# an answer to another question; a reply far larger than the query
# asked for. It counts the queries it got in ADDR-PORT.count (one line
# per query) and exits after SECONDS.
import os
import random
import socket
import struct
import sys
import time

addr, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
count = '%s-%d.count' % (addr, port)
if len(sys.argv) > 4:
    count = sys.argv[4]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((addr, port))
s.settimeout(0.2)
end = time.monotonic() + seconds
n = 0


def broken(q, k):
    qid = q[:2]
    question = q[12:]
    if k == 0:
        return os.urandom(random.randint(1, 600))
    if k == 1:  # QR, NOERROR, 1 question, 5 answers, none there
        return qid + struct.pack('>HHHHH', 0x8180, 1, 5, 0, 0) + question
    if k == 2:  # the answer's name is a pointer to itself
        hdr = qid + struct.pack('>HHHHH', 0x8180, 1, 1, 0, 0)
        off = len(hdr) + len(question)
        ans = struct.pack('>H', 0xC000 | off) + struct.pack(
            '>HHIH', 16, 1, 0, 4) + b'\x03abc'
        return hdr + question + ans
    if k == 3:  # a TXT answer to a question nobody asked
        other = b'\x05other\x04test\x00' + struct.pack('>HH', 16, 1)
        hdr = qid + struct.pack('>HHHHH', 0x8180, 1, 1, 0, 0)
        ans = b'\xc0\x0c' + struct.pack('>HHIH', 16, 1, 0, 15) + \
            b'\x0ev=STSv1; id=66'
        return hdr + other + ans
    # an rdlength that runs past the end of the packet
    hdr = qid + struct.pack('>HHHHH', 0x8180, 1, 1, 0, 0)
    ans = b'\xc0\x0c' + struct.pack('>HHIH', 16, 1, 0, 60000) + b'\x05v=STS'
    return hdr + question + ans


while time.monotonic() < end:
    try:
        q, peer = s.recvfrom(4096)
    except socket.timeout:
        continue
    if len(q) < 12:
        continue
    with open(count, 'a') as f:
        f.write('%d\n' % (n % 5))
    s.sendto(broken(q, n % 5), peer)
    n += 1
