#!/usr/bin/python3
# labd.py CONFIG.json - the lab's SMTP test hosts and the TCP peers nginx
# cannot play. Started by lib.sh inside the lab's network namespace; run
# with /usr/bin/python3 (Debian's, which has python3-aiosmtpd).
#
# - SMTP hosts (aiosmtpd, port 25 on their own address): with STARTTLS
#   (TLS 1.2 or later, a certificate from CONFIG) or without. Every
#   message is stored as DIR/NNNNNN.eml and described by one JSON line in
#   DIR/log.jsonl: host, file, peer, helo, mail_from, rcpt_tos, tls,
#   tls_version, cipher, sni, time. Every connection, with or without a
#   message, adds a line to DIR/conn.jsonl: peer, starttls (asked for),
#   tls (handshake done), tls_version, messages, time. That tells "the
#   client tried STARTTLS, then dropped the connection" from "never came".
# - Hang listeners: accept TCP and never send a byte (a server past every
#   timeout). A real peer produces this only when broken, and nginx cannot
#   be made to stall before the TLS handshake, hence this listener.
# - A TLS-RPT report receiver (RFC 8460 https rua): HTTPS POST of any path
#   is answered 200 and stored as DIR/NNNNNN.body plus a line in
#   DIR/log.jsonl (method, path, content_type, content_encoding, size,
#   sni). A tiny HTTP/1.1 reader: Content-Length or chunked bodies.
#
# SIGTERM or SIGINT ends it. It writes its pid to CONFIG's "pidfile" once
# every listener is bound, so the pid file means "ready".
import asyncio
import json
import os
import signal
import ssl
import sys
import time

from aiosmtpd.smtp import SMTP


def now():
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())


def remember_sni(sslobj, name, ctx):
    try:
        sslobj.lab_sni = name
    except AttributeError:
        pass
    return None


def tls_context(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    ctx.sni_callback = remember_sni
    return ctx


def tls_facts(sslobj):
    if sslobj is None:
        return {'tls': False, 'tls_version': None, 'cipher': None,
                'sni': None}
    return {'tls': True, 'tls_version': sslobj.version(),
            'cipher': sslobj.cipher()[0],
            'sni': getattr(sslobj, 'lab_sni', None)}


def append_json(path, obj):
    with open(path, 'a') as f:
        f.write(json.dumps(obj, sort_keys=True, separators=(',', ':')))
        f.write('\n')


def next_seq(folder, suffix):
    n = 0
    for f in os.listdir(folder):
        if f.endswith(suffix) and f[:-len(suffix)].isdigit():
            n = max(n, int(f[:-len(suffix)]))
    return n


def store_file(folder, seq, suffix, data):
    path = os.path.join(folder, '%06d%s' % (seq, suffix))
    with open(path + '.tmp', 'wb') as f:
        f.write(data)
    os.rename(path + '.tmp', path)
    return path


class MailStore:
    """aiosmtpd handler: keeps every message of one host."""

    def __init__(self, name, folder):
        self.name = name
        self.folder = folder
        os.makedirs(folder, exist_ok=True)
        self.seq = next_seq(folder, '.eml')

    async def handle_DATA(self, server, session, envelope):
        self.seq += 1
        data = envelope.original_content or b''
        path = store_file(self.folder, self.seq, '.eml', data)
        sslobj = session.ssl.get('ssl_object') if session.ssl else None
        rec = {'host': self.name, 'file': path, 'time': now(),
               'peer': session.peer[0] if session.peer else None,
               'helo': session.host_name,
               'mail_from': envelope.mail_from,
               'rcpt_tos': list(envelope.rcpt_tos), 'size': len(data)}
        rec.update(tls_facts(sslobj))
        append_json(os.path.join(self.folder, 'log.jsonl'), rec)
        server.lab_messages += 1
        return '250 2.0.0 Ok: queued as %06d' % self.seq


class LabSMTP(SMTP):
    """aiosmtpd's SMTP, plus one conn.jsonl line per connection."""

    def __init__(self, handler, **kw):
        super().__init__(handler, **kw)
        self.lab_messages = 0
        self.lab_peer = None
        self.lab_logged = False

    def connection_made(self, transport):
        if self.lab_peer is None:
            peer = transport.get_extra_info('peername')
            self.lab_peer = peer[0] if peer else None
        super().connection_made(transport)

    def connection_lost(self, error):
        if not self.lab_logged:
            self.lab_logged = True
            ssl_extra = self.session.ssl if self.session else None
            sslobj = ssl_extra.get('ssl_object') if ssl_extra else None
            rec = {'host': self.event_handler.name, 'time': now(),
                   'peer': self.lab_peer,
                   'starttls': self._tls_protocol is not None,
                   'messages': self.lab_messages}
            rec.update(tls_facts(sslobj))
            append_json(os.path.join(self.event_handler.folder,
                                     'conn.jsonl'), rec)
        super().connection_lost(error)


class Hang(asyncio.Protocol):
    """Accepts, reads and discards, never answers."""

    def data_received(self, data):
        pass


class Reports(asyncio.Protocol):
    """HTTPS POST receiver for TLS-RPT reports."""

    def __init__(self, folder, state):
        self.folder = folder
        self.state = state
        self.buf = b''
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.buf += data
        req = self.parse()
        if req is None:
            return
        method, path, headers, body = req
        self.state['seq'] += 1
        seq = self.state['seq']
        fpath = store_file(self.folder, seq, '.body', body)
        sslobj = self.transport.get_extra_info('ssl_object')
        append_json(os.path.join(self.folder, 'log.jsonl'), {
            'time': now(), 'method': method, 'path': path, 'file': fpath,
            'content_type': headers.get('content-type'),
            'content_encoding': headers.get('content-encoding'),
            'size': len(body),
            'sni': getattr(sslobj, 'lab_sni', None) if sslobj else None})
        self.transport.write(b'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n'
                             b'Connection: close\r\n\r\n')
        self.transport.close()

    def parse(self):
        end = self.buf.find(b'\r\n\r\n')
        if end < 0:
            return None
        head = self.buf[:end].decode('latin-1').split('\r\n')
        rest = self.buf[end + 4:]
        parts = head[0].split(' ')
        method, path = parts[0], parts[1] if len(parts) > 1 else ''
        headers = {}
        for line in head[1:]:
            k, _, v = line.partition(':')
            headers[k.strip().lower()] = v.strip()
        if 'chunked' in headers.get('transfer-encoding', '').lower():
            body = self.unchunk(rest)
            if body is None:
                return None
        else:
            n = int(headers.get('content-length', '0') or 0)
            if len(rest) < n:
                return None
            body = rest[:n]
        return method, path, headers, body

    @staticmethod
    def unchunk(data):
        body = b''
        while True:
            eol = data.find(b'\r\n')
            if eol < 0:
                return None
            size = int(data[:eol].split(b';')[0] or b'0', 16)
            if size == 0:
                return body
            if len(data) < eol + 2 + size + 2:
                return None
            body += data[eol + 2:eol + 2 + size]
            data = data[eol + 2 + size + 2:]


async def serve(conf):
    loop = asyncio.get_running_loop()
    servers = []
    for h in conf.get('smtp', []):
        if h['mode'] == 'hang':
            servers.append(await loop.create_server(
                Hang, h['ip'], h['port'], reuse_address=True))
            continue
        ctx = None
        if h['mode'] == 'starttls':
            ctx = tls_context(h['cert'], h['key'])
        handler = MailStore(h['name'], h['dir'])

        def factory(handler=handler, ctx=ctx, name=h['name']):
            return LabSMTP(handler, hostname=name, tls_context=ctx,
                           require_starttls=False, decode_data=False,
                           ident='lab ESMTP')
        servers.append(await loop.create_server(
            factory, h['ip'], h['port'], reuse_address=True))
    for h in conf.get('hang', []):
        servers.append(await loop.create_server(
            Hang, h['ip'], h['port'], reuse_address=True))
    rep = conf.get('reports')
    if rep:
        os.makedirs(rep['dir'], exist_ok=True)
        state = {'seq': next_seq(rep['dir'], '.body')}
        ctx = tls_context(rep['cert'], rep['key'])
        servers.append(await loop.create_server(
            lambda: Reports(rep['dir'], state), rep['ip'], rep['port'],
            ssl=ctx, reuse_address=True))
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set_result, None)
    tmp = conf['pidfile'] + '.tmp'
    with open(tmp, 'w') as f:
        f.write('%d\n' % os.getpid())
    os.rename(tmp, conf['pidfile'])
    print('labd: %d listeners ready' % len(servers), flush=True)
    await stop
    for s in servers:
        s.close()
    try:
        os.unlink(conf['pidfile'])
    except OSError:
        pass


def main():
    with open(sys.argv[1]) as f:
        conf = json.load(f)
    asyncio.run(serve(conf))


if __name__ == '__main__':
    main()
