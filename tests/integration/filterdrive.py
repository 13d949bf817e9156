#!/usr/bin/env python3
"""filterdrive.py - smtpd's side of the filter protocol, spoken to the real
filter-mtasts over pipes, for tests that need input smtpd cannot be made
to send on demand: a session stream of a smtpd release the harness does
not run yet (7.6), thousands of sessions under LeakSanitizer, or RCPT TO
for domains with hundreds of MX hosts. The lines are what smtpd writes
(lka_filter.c, report_smtp.c, mta_session.c of OpenSMTPD 6.8.0p2 and
7.6.0p1): the config block, filter|VERSION|TIME|smtp-in|rcpt-to|..., and
report|VERSION|TIME|DIRECTION|EVENT|SESSION|PARAMS.

Used as a module (import filterdrive) by the shell tests through
"python3 -"; nothing here decides a test, it only drives and waits.
"""
import os
import re
import select
import subprocess
import time

VERSIONS = {"6.8": ("6.8.0p2", "0.6"), "7.6": ("7.6.0p1", "0.7")}


class Filter:
    """A running filter-mtasts; smtpd's end of its stdin and stdout."""

    def __init__(self, argv, log, smtpd="7.6"):
        self.version, self.proto = VERSIONS[smtpd]
        self.log = log
        self.err = open(log, "ab")
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=self.err)
        self.buf = b""
        self.token = 0
        self.registered = []
        while True:
            line = self.readline(30)
            if line is None:
                raise RuntimeError("no register|ready from the filter")
            if line == "register|ready":
                break
            self.registered.append(line)
        self.send("config|smtpd-version|%s" % self.version,
                  "config|protocol|%s" % self.proto,
                  "config|smtp-session-timeout|300",
                  "config|subsystem|smtp-in",
                  "config|subsystem|smtp-out",
                  "config|admd|mta.sender.test",
                  "config|ready")

    def send(self, *lines):
        data = "".join(l + "\n" for l in lines).encode()
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def readline(self, secs):
        """The next line the filter wrote, or None after secs."""
        end = time.monotonic() + secs
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.p.stdout], [], [], left)
            if not r:
                return None
            chunk = os.read(self.p.stdout.fileno(), 65536)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()

    def stamp(self):
        t = time.time()
        return "%d.%06d" % (int(t), int((t % 1) * 1e6))

    def report(self, direction, event, reqid, params=None):
        line = "report|%s|%s|%s|%s|%016x" % (self.proto, self.stamp(),
                                             direction, event, reqid)
        if params is not None:
            line += "|" + params
        self.send(line)

    def rcpt(self, reqid, addr, wait=30):
        """RCPT TO: the filter's result line for it ("proceed" or
        "reject|451 ..."), None when none came within wait seconds."""
        self.token += 1
        tok = self.token
        self.send("filter|%s|%s|smtp-in|rcpt-to|%016x|%016x|%s" % (
            self.proto, self.stamp(), reqid, tok, addr))
        return self.result(reqid, tok, wait)

    def result(self, reqid, tok, wait):
        end = time.monotonic() + wait
        while True:
            line = self.readline(max(0.0, end - time.monotonic()))
            if line is None:
                return None
            f = line.split("|", 4)
            if len(f) >= 4 and f[0] == "filter-result" and \
                    int(f[1], 16) == reqid and int(f[2], 16) == tok:
                return "|".join(f[3:])

    def smtp_in(self, reqid, addr, sender="sender@client.test"):
        """One smtp-in session up to RCPT TO; its filter result."""
        self.report("smtp-in", "tx-mail", reqid, "%08x|ok|%s" % (
            reqid & 0xffffffff, sender))
        res = self.rcpt(reqid, addr)
        self.report("smtp-in", "link-disconnect", reqid)
        return res

    def smtp_out(self, reqid, lines):
        """An smtp-out session: (event, params) pairs, in order."""
        for event, params in lines:
            self.report("smtp-out", event, reqid, params)

    def wait_log(self, pattern, count=1, secs=30):
        """Waits until the filter's log has count lines matching pattern;
        returns how many it has then."""
        rx = re.compile(pattern)
        end = time.monotonic() + secs
        while True:
            with open(self.log, errors="replace") as f:
                got = sum(1 for l in f if rx.search(l))
            if got >= count or time.monotonic() >= end:
                return got
            time.sleep(0.05)

    def close(self, secs=60):
        """EOF on the filter's stdin, as when smtpd exits: its status."""
        self.p.stdin.close()
        try:
            return self.p.wait(secs)
        except subprocess.TimeoutExpired:
            self.p.kill()
            return self.p.wait()


def session_76_refused_cert(dst, src="127.0.0.1:40000", helo="mta.sender.test"):
    """smtpd 7.6's smtp-out stream under "relay tls" when the MX host's
    certificate fails verification: no link-tls, the STARTTLS accepted
    with 220, then the session ends (the handshake failed)."""
    mx = dst.rsplit(":", 1)[0]
    return [
        ("link-connect", "%s|pass|%s|%s" % (mx, src, dst)),
        ("protocol-server", "220 %s ESMTP ready" % mx),
        ("protocol-client", "EHLO %s" % helo),
        ("link-identify", "EHLO|%s" % helo),
        ("protocol-server", "250-%s Hello %s" % (mx, helo)),
        ("protocol-server", "250-STARTTLS"),
        ("protocol-server", "250 HELP"),
        ("protocol-client", "STARTTLS"),
        ("protocol-server", "220 2.0.0 Ready to start TLS"),
        ("link-disconnect", None),
    ]


def session_68_refused_cert(dst, src="127.0.0.1:40000", helo="mta.sender.test"):
    """smtpd 6.8's: the same, with link-tls reported before the check."""
    s = session_76_refused_cert(dst, src, helo)
    return s[:-1] + [("link-tls", "version=TLSv1.3, cipher=TLS_AES_256_GCM_"
                      "SHA384, bits=256"), ("link-disconnect", None)]


def session_nostarttls(dst, src="127.0.0.1:40000", helo="mta.sender.test"):
    """EHLO without STARTTLS under "relay tls": smtpd gives up."""
    mx = dst.rsplit(":", 1)[0]
    return [
        ("link-connect", "%s|pass|%s|%s" % (mx, src, dst)),
        ("protocol-server", "220 %s ESMTP ready" % mx),
        ("protocol-client", "EHLO %s" % helo),
        ("link-identify", "EHLO|%s" % helo),
        ("protocol-server", "250-%s Hello %s" % (mx, helo)),
        ("protocol-server", "250 HELP"),
        ("link-disconnect", None),
    ]


def session_delivered(dst, rcpt, tls=True, src="127.0.0.1:40000",
                      helo="mta.sender.test", msgid=0x1234abcd):
    """A delivery: TLS (or not), one message to rcpt, committed."""
    mx = dst.rsplit(":", 1)[0]
    s = [
        ("link-connect", "%s|pass|%s|%s" % (mx, src, dst)),
        ("protocol-server", "220 %s ESMTP ready" % mx),
        ("protocol-client", "EHLO %s" % helo),
        ("link-identify", "EHLO|%s" % helo),
        ("protocol-server", "250 STARTTLS" if tls else "250 HELP"),
    ]
    if tls:
        s += [("protocol-client", "STARTTLS"),
              ("protocol-server", "220 2.0.0 Ready to start TLS"),
              ("link-tls", "version=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384,"
               " bits=256")]
    m = "%08x" % msgid
    s += [("tx-begin", m), ("tx-mail", "%s|ok|sender@client.test" % m),
          ("tx-rcpt", "%s|ok|%s" % (m, rcpt)), ("tx-envelope",
          "%s|%016x" % (m, msgid << 32)), ("tx-data", "%s|ok" % m),
          ("tx-commit", "%s|123" % m), ("link-disconnect", None)]
    return s
