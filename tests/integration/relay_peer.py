#!/usr/bin/python3
# relay_peer.py - a minimal SMTP peer for the mtasts-relay tests, for two
# behaviours the lab's aiosmtpd hosts cannot give (a mock, on purpose):
#   big:  accepts a message of any size, storing only its size and
#         SHA-256 (aiosmtpd caps messages at 32 MiB and keeps them in RAM);
#   drop: takes the whole message, then closes the connection without a
#         reply to the final dot (an MX that fails after DATA).
# Plain SMTP, no STARTTLS. Usage: relay_peer.py MODE ADDR PORT LOGFILE
# Appends one line "MODE SIZE SHA256" per message to LOGFILE.
import asyncio
import hashlib
import sys

MODE, ADDR, PORT, LOG = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]


async def session(reader, writer):
    def say(text):
        writer.write(text.encode() + b'\r\n')
    say('220 peer.test ESMTP relay_peer ' + MODE)
    while True:
        line = await reader.readline()
        if not line:
            break
        cmd = line[:4].upper()
        if cmd == b'EHLO':
            say('250-peer.test\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE')
        elif cmd in (b'MAIL', b'RCPT', b'RSET', b'NOOP', b'HELO'):
            say('250 ok')
        elif cmd == b'QUIT':
            say('221 bye')
            break
        elif cmd == b'DATA':
            say('354 go')
            await writer.drain()
            h, size = hashlib.sha256(), 0
            while True:
                chunk = await reader.readline()
                if not chunk or chunk in (b'.\r\n', b'.\n'):
                    break
                if chunk.startswith(b'.'):
                    chunk = chunk[1:]
                h.update(chunk)
                size += len(chunk)
            with open(LOG, 'a') as f:
                f.write('%s %d %s\n' % (MODE, size, h.hexdigest()))
            if MODE == 'drop':
                writer.close()
                return
            say('250 2.0.0 stored')
        else:
            say('502 no')
        await writer.drain()
    writer.close()


async def main():
    server = await asyncio.start_server(session, ADDR, PORT, limit=1 << 20)
    print('relay_peer: listening', flush=True)
    async with server:
        await server.serve_forever()

asyncio.run(main())
