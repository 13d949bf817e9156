#!/usr/bin/python3
# labgen.py - writes everything the lab runs from, under LAB_DIR only.
#
#   labgen.py gen LAB_DIR LAB_NAME [dnssec]
#                                      configs, zone, policies, certificates;
#                                      with "dnssec" (LAB_DNSSEC=1) also the
#                                      signed zone dane.test. and the
#                                      validating resolver's unbound.conf
#   labgen.py set-rr LAB_DIR NAME TYPE [RDATA...]
#                                      replace (or, without RDATA, delete)
#                                      the NAME/TYPE RRset; prints the new
#                                      zone serial
#   labgen.py cert LAB_DIR NAME [valid|expired|self|wrong]
#                                      issue (or reuse) a certificate from
#                                      the test CA; prints "CERT KEY"
#   labgen.py bulk LAB_DIR N           add N enforce domains
#                                      bNNNN.bench.test (for bench/):
#                                      zone, policies, certificates,
#                                      LAB_DIR/nginx-bulk.conf; prints
#                                      the new zone serial
#
# The mail domains come from domains.txt next to this file; the fixed
# hosts (DNS, HTTPS, SMTP) are the tables below. Certificates are made
# with the openssl command and kept in LAB_DIR/ca between runs; the rest
# is rewritten on every "gen".
import hashlib
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
POLICY_ID = '20261125T1'
MAX_AGE = 86400
TTL = 0			# no resolver may cache: changes show at once

DNS_IP = '127.0.10.53'
HTTPS_IP = '127.0.10.1'		# nginx: every mta-sts.* host, by SNI
HANG_HTTPS_IP = '127.0.10.2'	# labd: accepts on 443, never answers
REPORTS_IP = '127.0.10.3'	# labd: TLS-RPT https receiver
WRONG_NAME = 'wrong-name.elsewhere.test'

# LAB_DNSSEC=1 only: a separate zone signed once at generation (ldns),
# served by the same nsd, and a validating unbound for the namespace's
# resolv.conf (the MTAs' own DNS); every other client keeps DNS_IP.
DANE_ZONE = 'dane.test'
RESOLVER_IP = '127.0.10.54'
DANE_HOST = 'good.mx.test'		# every DANE MX is this SMTP host
DANE_PATTERNS = ['good.mx.test']	# so the DANE MX hosts are outside
# domain, its MX host, TLSA: good (sha256 of DANE_HOST's public key:
# DANE-EE 3 1 1) or wrong (a hash of something else)
DANE_DOMAINS = [
    ('dane.test', 'mx.dane.test', 'good'),
    ('bad.dane.test', 'mx-bad.dane.test', 'wrong'),
]
SIG_INCEPTION = '20200101000000'
SIG_EXPIRATION = '20361231000000'

# SMTP test hosts: name, address, mode (starttls|plain|hang), cert kind.
SMTP_HOSTS = [
    ('good.mx.test', '127.0.20.1', 'starttls', 'valid'),
    ('nostarttls.mx.test', '127.0.20.2', 'plain', None),
    ('expired.mx.test', '127.0.20.3', 'starttls', 'expired'),
    ('selfsigned.mx.test', '127.0.20.4', 'starttls', 'self'),
    ('wrongname.mx.test', '127.0.20.5', 'starttls', 'wrong'),
    ('attacker.evil.test', '127.0.20.6', 'starttls', 'valid'),
    ('hang.mx.test', '127.0.20.7', 'hang', None),
]
# Addresses for the MTAs under test (nothing listens on them).
CLIENTS = [('client1.test', '127.0.30.1'), ('client2.test', '127.0.30.2')]

HTTP_CERT = {'expired': 'expired', 'self': 'self', 'wrongname': 'wrong'}


def die(msg):
    sys.stderr.write('labgen: %s\n' % msg)
    sys.exit(1)


def read_domains():
    cols = ['domain', 'group', 'mode', 'txt', 'http', 'mx', 'patterns',
            'expect']
    out = []
    with open(os.path.join(HERE, 'domains.txt')) as f:
        for n, line in enumerate(f, 1):
            line = line.split('#', 1)[0].split()
            if not line:
                continue
            if len(line) != len(cols):
                die('domains.txt:%d: %d columns, want %d' %
                    (n, len(line), len(cols)))
            d = dict(zip(cols, line))
            d['mx'] = [tuple(x.split(':', 1)) for x in d['mx'].split(',')]
            d['patterns'] = ([] if d['patterns'] == '-' else
                             d['patterns'].split(','))
            out.append(d)
    return out


# ---------------------------------------------------------------- files

def write(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + '.tmp'
    with open(tmp, 'wb' if isinstance(data, bytes) else 'w') as f:
        f.write(data)
    os.chmod(tmp, mode)
    os.rename(tmp, path)


# ---------------------------------------------------------------- certs

CNF = """\
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ ca ]
default_ca = lab
[ lab ]
dir = %(dir)s
database = $dir/index.txt
new_certs_dir = $dir/issued
certificate = $dir/ca.pem
private_key = $dir/ca.key
rand_serial = yes
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[ any ]
commonName = supplied
[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ v3_leaf ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:${ENV::LAB_SAN}
[ v3_self ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
subjectAltName = DNS:${ENV::LAB_SAN}
"""


def openssl(args, env=None):
    e = dict(os.environ)
    e['LAB_SAN'] = 'unused.test'
    if env:
        e.update(env)
    r = subprocess.run(['openssl'] + args, env=e, capture_output=True,
                       text=True)
    if r.returncode != 0:
        die('openssl %s failed:\n%s%s' % (' '.join(args), r.stdout,
                                          r.stderr))


def ensure_ca(lab):
    ca = os.path.join(lab, 'ca')
    os.makedirs(os.path.join(ca, 'issued'), exist_ok=True)
    os.makedirs(os.path.join(ca, 'certs'), exist_ok=True)
    cnf = os.path.join(ca, 'openssl.cnf')
    write(cnf, CNF % {'dir': ca})
    for f, text in (('index.txt', ''), ('index.txt.attr',
                                         'unique_subject = no\n')):
        if not os.path.exists(os.path.join(ca, f)):
            write(os.path.join(ca, f), text)
    if os.path.exists(os.path.join(ca, 'ca.pem')):
        return ca
    openssl(['req', '-x509', '-config', cnf, '-extensions', 'v3_ca',
             '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
             '-nodes', '-keyout', os.path.join(ca, 'ca.key.tmp'),
             '-out', os.path.join(ca, 'ca.pem.tmp'), '-days', '3650',
             '-subj', '/CN=mtasts lab test CA'])
    os.rename(os.path.join(ca, 'ca.key.tmp'), os.path.join(ca, 'ca.key'))
    os.rename(os.path.join(ca, 'ca.pem.tmp'), os.path.join(ca, 'ca.pem'))
    return ca


def cert(lab, name, kind='valid'):
    """Certificate and key for name: valid (from the test CA), expired
    (from the test CA, validity in 2020), self (self-signed), wrong (from
    the test CA, for WRONG_NAME only). Reused when present."""
    ca = ensure_ca(lab)
    base = os.path.join(ca, 'certs', '%s-%s' % (kind, name))
    crt, key = base + '.pem', base + '.key'
    if os.path.exists(crt) and os.path.exists(key):
        return crt, key
    cnf = os.path.join(ca, 'openssl.cnf')
    san = WRONG_NAME if kind == 'wrong' else name
    env = {'LAB_SAN': san}
    if kind == 'self':
        openssl(['req', '-x509', '-config', cnf, '-extensions', 'v3_self',
                 '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
                 '-nodes', '-keyout', key + '.tmp', '-out', crt + '.tmp',
                 '-days', '3650', '-subj', '/CN=' + san], env)
    else:
        csr = base + '.csr'
        openssl(['req', '-new', '-config', cnf, '-newkey', 'ec',
                 '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
                 '-keyout', key + '.tmp', '-out', csr,
                 '-subj', '/CN=' + san], env)
        dates = (['-startdate', '20200101000000Z', '-enddate',
                  '20200201000000Z'] if kind == 'expired' else
                 ['-days', '3650'])
        openssl(['ca', '-batch', '-config', cnf, '-extensions', 'v3_leaf',
                 '-notext', '-in', csr, '-out', crt + '.tmp'] + dates, env)
        os.unlink(csr)
    os.rename(key + '.tmp', key)
    os.rename(crt + '.tmp', crt)
    return crt, key


# ---------------------------------------------------------------- DNS

def txt_rdata(text):
    """Zone-file RDATA for one TXT record. Text starting with a double
    quote is taken as zone-file syntax (several strings); any other text
    becomes strings of at most 255 bytes."""
    if text.startswith('"'):
        return text
    text = text.replace('\\', '\\\\').replace('"', '\\"')
    raw = text.encode()
    parts = [raw[i:i + 255].decode('utf-8', 'replace')
             for i in range(0, len(raw), 255)] or ['']
    return ' '.join('"%s"' % p for p in parts)


def sts_txt(kind):
    good = 'v=STSv1; id=%s' % POLICY_ID
    return {
        'ok': [good],
        'none': [],
        'two': [good, 'v=STSv1; id=20261125T2'],
        'bad': ['v=STSv1; id=bad!'],
        'split': ['"v=STSv1; id=2026" "1125T1"'],
        'mixed': ['v=spf1 -all', good],
        'cname': [],
    }[kind]


def base_records(domains):
    rr = [('ns.test', 'A', DNS_IP)]
    for name, ip, _, _ in SMTP_HOSTS:
        rr.append((name, 'A', ip))
    for name, ip in CLIENTS:
        rr.append((name, 'A', ip))
    rr.append(('reports.test', 'A', REPORTS_IP))
    rr.append(('reports.test', 'MX', '10 good.mx.test.'))
    rr.append(('www.redirect.test', 'A', HTTPS_IP))
    rr.append(('_mta-sts.target.elsewhere.test', 'TXT',
               txt_rdata('v=STSv1; id=%s' % POLICY_ID)))
    for d in domains:
        dom = d['domain']
        for pref, host in d['mx']:
            rr.append((dom, 'MX', '%s %s.' % (pref, host)))
        if d['txt'] == 'cname':
            rr.append(('_mta-sts.' + dom, 'CNAME',
                       '_mta-sts.target.elsewhere.test.'))
        for t in sts_txt(d['txt']):
            rr.append(('_mta-sts.' + dom, 'TXT', txt_rdata(t)))
        if d['http'] == 'hang':
            rr.append(('mta-sts.' + dom, 'A', HANG_HTTPS_IP))
        elif d['http'] not in ('none', 'nxhost'):
            rr.append(('mta-sts.' + dom, 'A', HTTPS_IP))
        if d['group'] == 'delivery':
            rr.append(('_smtp._tls.' + dom, 'TXT', txt_rdata(
                'v=TLSRPTv1; rua=mailto:tlsrpt@reports.test,'
                'https://reports.test/tlsrpt')))
    return rr


def write_zone(lab, state):
    lines = ['$ORIGIN test.', '$TTL %d' % TTL,
             '@ IN SOA ns.test. hostmaster.test. '
             '( %d 60 60 600 0 )' % state['serial'],
             '@ IN NS ns.test.']
    for owner, rtype, rdata in state['records']:
        lines.append('%s. IN %s %s' % (owner, rtype, rdata))
    write(os.path.join(lab, 'dns', 'test.zone'), '\n'.join(lines) + '\n')
    write(os.path.join(lab, 'dns', 'records.json'),
          json.dumps(state, indent=0) + '\n')
    write(os.path.join(lab, 'dns', 'serial'), '%d\n' % state['serial'])


def set_rr(lab, name, rtype, rdatas):
    path = os.path.join(lab, 'dns', 'records.json')
    with open(path) as f:
        state = json.load(f)
    name = name.lower().rstrip('.')
    if name != 'test' and not name.endswith('.test'):
        die('%s is not under the lab zone test.' % name)
    if (name == DANE_ZONE or name.endswith('.' + DANE_ZONE)) and \
            os.path.exists(os.path.join(lab, 'dns', DANE_ZONE + '.zone')):
        die('%s is in the signed zone %s. (fixed at lab_up)' %
            (name, DANE_ZONE))
    rtype = rtype.upper()
    recs = [r for r in state['records']
            if not (r[0] == name and r[1] == rtype)]
    for rd in rdatas:
        recs.append([name, rtype, txt_rdata(rd) if rtype == 'TXT' else rd])
    state['records'] = recs
    state['serial'] += 1
    write_zone(lab, state)
    print(state['serial'])


NSD_CONF = """\
server:
	ip-address: %(ip)s
	port: 53
	do-ip6: no
	server-count: 1
	username: ""
	chroot: ""
	database: ""
	zonesdir: "%(dns)s"
	zonelistfile: "%(dns)s/zone.list"
	xfrdfile: "%(dns)s/xfrd.state"
	xfrdir: "%(dns)s"
	pidfile: "%(dns)s/nsd.pid"
	logfile: "%(logs)s/nsd.log"
	verbosity: 1
	hide-version: yes
	refuse-any: no
	# Debian's nsd limits answers to 200 a second per /24 (RRL) and
	# drops the rest: the benches and the concurrency tests ask faster
	# than that from one address, and a real resolver never hits it
	rrl-ratelimit: 0
	rrl-whitelist-ratelimit: 0
remote-control:
	control-enable: yes
	control-interface: "%(dns)s/nsd.ctl"
zone:
	name: "test."
	zonefile: "%(dns)s/test.zone"
"""


# ---------------------------------------------------------------- DNSSEC

NSD_DANE_ZONE = """\
zone:
	name: "%(zone)s."
	zonefile: "%(dns)s/%(zone)s.zone.signed"
"""

UNBOUND_CONF = """\
# generated by tests/lab/labgen.py (LAB_DNSSEC=1): the lab's validating
# resolver; the namespace's resolv.conf points here
server:
	interface: %(ip)s
	port: 53
	do-ip4: yes
	do-ip6: no
	do-udp: yes
	do-tcp: yes
	access-control: 127.0.0.0/8 allow
	username: ""
	chroot: ""
	directory: "%(dns)s"
	pidfile: "%(dns)s/unbound.pid"
	logfile: "%(logs)s/unbound.log"
	use-syslog: no
	verbosity: 1
	val-log-level: 2
	num-threads: 1
	so-reuseport: no
	do-not-query-localhost: no
	module-config: "validator iterator"
	# unbound answers test. itself (RFC 6761) unless told otherwise
	local-zone: "test." transparent
	trust-anchor: "%(ds)s"
	# the lab's records have TTL 0 and change during tests
	cache-max-ttl: 0
	cache-max-negative-ttl: 0
	infra-host-ttl: 1
	key-cache-size: 1m
	prefetch: no
	serve-expired: no
	qname-minimisation: no
	aggressive-nsec: no
	harden-referral-path: no
	val-permissive-mode: no
	trust-anchor-signaling: no
	root-key-sentinel: no
remote-control:
	control-enable: no
stub-zone:
	name: "test."
	stub-addr: %(nsd)s
stub-zone:
	name: "%(zone)s."
	stub-addr: %(nsd)s
"""


def run(args, cwd=None):
    r = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        die('%s failed:\n%s%s' % (' '.join(args), r.stdout, r.stderr))
    return r.stdout


def spki_sha256(crt):
    """sha256 (hex) of the certificate's SubjectPublicKeyInfo (DER): the
    data of a TLSA 3 1 1 record."""
    pem = run(['openssl', 'x509', '-in', crt, '-noout', '-pubkey'])
    r = subprocess.run(['openssl', 'pkey', '-pubin', '-outform', 'DER'],
                       input=pem.encode(), capture_output=True)
    if r.returncode != 0:
        die('openssl pkey failed: %s' % r.stderr.decode())
    return hashlib.sha256(r.stdout).hexdigest()


def dane_records(lab):
    good = spki_sha256(cert(lab, DANE_HOST)[0])
    wrong = hashlib.sha256(b'not the key of ' +
                           DANE_HOST.encode()).hexdigest()
    ip = [h[1] for h in SMTP_HOSTS if h[0] == DANE_HOST][0]
    rr, first = [], None
    for dom, mx, tlsa in DANE_DOMAINS:
        data = '3 1 1 ' + (good if tlsa == 'good' else wrong)
        first = first or data
        rr.append((dom, 'MX', '10 %s.' % mx))
        rr.append((mx, 'A', ip))
        rr.append(('_25._tcp.' + mx, 'TLSA', data))
        rr.append(('_mta-sts.' + dom, 'TXT',
                   txt_rdata('v=STSv1; id=%s' % POLICY_ID)))
        rr.append(('mta-sts.' + dom, 'A', HTTPS_IP))
    return rr, first


def sign_dane_zone(dns, records):
    """Write DANE_ZONE's zone file, sign it with a new KSK and ZSK
    (ECDSA P-256, NSEC) and return the KSK's DS record, the trust
    anchor."""
    # every TTL written out: ldns-signzone takes "$TTL 0" for no $TTL
    lines = ['$ORIGIN %s.' % DANE_ZONE,
             '@ %d IN SOA ns.test. hostmaster.test. ( 1 60 60 600 0 )' %
             TTL, '@ %d IN NS ns.test.' % TTL]
    for owner, rtype, rdata in records:
        lines.append('%s. %d IN %s %s' % (owner, TTL, rtype, rdata))
    zone = os.path.join(dns, DANE_ZONE + '.zone')
    write(zone, '\n'.join(lines) + '\n')
    for f in os.listdir(dns):
        if f.startswith('K%s.+' % DANE_ZONE):
            os.unlink(os.path.join(dns, f))
    ksk = run(['ldns-keygen', '-a', 'ECDSAP256SHA256', '-k', DANE_ZONE],
              dns).strip()
    zsk = run(['ldns-keygen', '-a', 'ECDSAP256SHA256', DANE_ZONE],
              dns).strip()
    run(['ldns-signzone', '-i', SIG_INCEPTION, '-e', SIG_EXPIRATION,
         '-o', DANE_ZONE + '.', '-f', zone + '.signed', zone,
         os.path.join(dns, ksk), os.path.join(dns, zsk)], dns)
    with open(os.path.join(dns, ksk + '.ds')) as f:
        ds = ' '.join(f.read().split())
    return ds.replace(' IN DS ', ' DS ')


def gen_dnssec(lab):
    """The signed zone, its place in nsd.conf, unbound.conf; returns the
    policy hosts for gen_https and the TLSA data of the first domain's
    MX (LAB_DANE_TLSA, checked by lab_up)."""
    dns = os.path.join(lab, 'dns')
    records, good = dane_records(lab)
    ds = sign_dane_zone(dns, records)
    write(os.path.join(dns, 'dane.ds'), ds + '\n')
    with open(os.path.join(dns, 'nsd.conf'), 'a') as f:
        f.write(NSD_DANE_ZONE % {'zone': DANE_ZONE, 'dns': dns})
    write(os.path.join(dns, 'unbound.conf'), UNBOUND_CONF % {
        'ip': RESOLVER_IP, 'dns': dns, 'logs': os.path.join(lab, 'logs'),
        'ds': ds, 'nsd': DNS_IP, 'zone': DANE_ZONE})
    hosts = [('mta-sts.' + dom, dom, 'ok',
              policy_body('enforce', DANE_PATTERNS))
             for dom, _, _ in DANE_DOMAINS]
    return hosts, good


# ---------------------------------------------------------------- HTTPS

def policy_body(mode, patterns, nl='\n'):
    lines = ['version: STSv1', 'mode: ' + mode]
    lines += ['mx: ' + p for p in patterns]
    lines.append('max_age: %d' % MAX_AGE)
    return nl.join(lines) + nl


def pad_to(body, total):
    """body plus unknown "x-pad" fields (ignored by a parser) in lines of
    at most 100 bytes, to exactly total bytes."""
    out = [body]
    left = total - len(body)
    while left > 0:
        n = 100 if left >= 200 else left
        out.append('x-pad: ' + 'a' * (n - 8) + '\n')
        left -= n
    s = ''.join(out)
    assert len(s) == total, (len(s), total)
    return s


def policy_file(d):
    mode = d['mode'] if d['mode'] != '-' else 'enforce'
    body = policy_body(mode, d['patterns'])
    kind = d['http']
    if kind == 'crlf':
        body = policy_body(mode, d['patterns'], '\r\n')
    elif kind == 'big':
        body = pad_to(body, 65537)
    elif kind == 'max':
        body = pad_to(body, 65536)
    elif kind == 'slow':
        body = pad_to(body, 1000)
    elif kind == 'badpolicy':
        body = ('version: STSv1\nmode: %s\nmx %s\nmax_age: %d\n' %
                (mode, d['patterns'][0], MAX_AGE))
    return body


NGINX_HEAD = """\
# generated by tests/lab/labgen.py: the lab's HTTPS server
user root;
worker_processes 1;
daemon on;
pid %(lab)s/nginx/nginx.pid;
lock_file %(lab)s/nginx/nginx.lock;
error_log %(lab)s/logs/nginx-error.log warn;
events {
	worker_connections 512;
}
http {
	log_format lab '$remote_addr sni="$ssl_server_name" host="$host" '
	    '"$request" $status $body_bytes_sent '
	    'ua="$http_user_agent" ims="$http_if_modified_since" '
	    'inm="$http_if_none_match" cc="$http_cache_control"';
	access_log %(lab)s/logs/nginx-access.log lab;
	client_body_temp_path %(lab)s/nginx/tmp/body;
	proxy_temp_path %(lab)s/nginx/tmp/proxy;
	fastcgi_temp_path %(lab)s/nginx/tmp/fastcgi;
	uwsgi_temp_path %(lab)s/nginx/tmp/uwsgi;
	scgi_temp_path %(lab)s/nginx/tmp/scgi;
	types { }
	default_type text/plain;
	charset off;
	server_tokens off;
	sendfile on;
	keepalive_timeout 5;
	ssl_protocols TLSv1.2 TLSv1.3;
	ssl_session_cache off;

	server {
		listen %(ip)s:443 ssl default_server;
		server_name _;
		ssl_certificate %(dcrt)s;
		ssl_certificate_key %(dkey)s;
		return 421;
	}
"""

NGINX_SERVER = """
	server {
		listen %(ip)s:443 ssl;
		server_name %(host)s;
		ssl_certificate %(crt)s;
		ssl_certificate_key %(key)s;
		root %(root)s;
		location = /.well-known/mta-sts.txt {
%(inner)s		}
		location / {
			return 404;
		}
	}
"""


def nginx_inner(kind):
    return {
        'html': '\t\t\tdefault_type text/html;\n',
        'charset': '\t\t\tdefault_type "text/plain; charset=utf-8";\n',
        '500': '\t\t\treturn 500;\n',
        'redirect': '\t\t\treturn 301 https://www.redirect.test'
                    '/.well-known/mta-sts.txt;\n',
        'slow': '\t\t\tlimit_rate 20;\n\t\t\tlimit_rate_after 0;\n',
    }.get(kind, '')


def gen_https(lab, domains, extra=()):
    www = os.path.join(lab, 'www')
    dcrt, dkey = cert(lab, 'lab-default.test')
    conf = [NGINX_HEAD % {'lab': lab, 'ip': HTTPS_IP, 'dcrt': dcrt,
                          'dkey': dkey}]
    hosts = []
    for d in domains:
        if d['http'] in ('none', 'nxhost', 'hang'):
            continue
        hosts.append(('mta-sts.' + d['domain'], d['domain'], d['http'],
                      policy_file(d)))
    red = [d for d in domains if d['http'] == 'redirect']
    for d in red:
        mode = d['mode'] if d['mode'] != '-' else 'enforce'
        hosts.append(('www.' + d['domain'], 'www.' + d['domain'], 'ok',
                      policy_body(mode, d['patterns'])))
    hosts += extra
    for host, folder, kind, body in hosts:
        crt, key = cert(lab, host, HTTP_CERT.get(kind, 'valid'))
        root = os.path.join(www, folder)
        os.makedirs(os.path.join(root, '.well-known'), exist_ok=True)
        if kind != '404':
            write(os.path.join(root, '.well-known', 'mta-sts.txt'), body)
        conf.append(NGINX_SERVER % {'ip': HTTPS_IP, 'host': host,
                                    'crt': crt, 'key': key, 'root': root,
                                    'inner': nginx_inner(kind)})
    conf.append('}\n')
    for t in ('body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'):
        os.makedirs(os.path.join(lab, 'nginx', 'tmp', t), exist_ok=True)
    write(os.path.join(lab, 'nginx.conf'), ''.join(conf))


# ---------------------------------------------------------------- the rest

def gen_labd(lab):
    smtp = []
    for name, ip, mode, kind in SMTP_HOSTS:
        h = {'name': name, 'ip': ip, 'port': 25, 'mode': mode,
             'dir': os.path.join(lab, 'smtp', name)}
        if kind:
            h['cert'], h['key'] = cert(lab, name, kind)
        smtp.append(h)
        os.makedirs(h['dir'], exist_ok=True)
    rcrt, rkey = cert(lab, 'reports.test')
    conf = {'pidfile': os.path.join(lab, 'labd.pid'), 'smtp': smtp,
            'hang': [{'ip': HANG_HTTPS_IP, 'port': 443}],
            'reports': {'ip': REPORTS_IP, 'port': 443, 'cert': rcrt,
                        'key': rkey, 'dir': os.path.join(lab, 'reports')}}
    write(os.path.join(lab, 'labd.json'), json.dumps(conf, indent=1))


def shvar(name):
    return 'LAB_SMTP_' + name.split('.')[0].upper().replace('-', '_')


def gen_env(lab, name, domains, tlsa=None):
    addrs = [DNS_IP, HTTPS_IP, HANG_HTTPS_IP, REPORTS_IP]
    if tlsa:
        addrs.append(RESOLVER_IP)
    addrs += [h[1] for h in SMTP_HOSTS] + [c[1] for c in CLIENTS]
    env = [
        '# generated by tests/lab/labgen.py; source it',
        'LAB_NAME=%s' % name,
        'LAB_DIR=%s' % lab,
        'LAB_DNS=%s' % DNS_IP,
        'LAB_HTTPS=%s' % HTTPS_IP,
        'LAB_HTTPS_HANG=%s' % HANG_HTTPS_IP,
        'LAB_REPORTS=%s' % REPORTS_IP,
        'LAB_REPORTS_DIR=%s/reports' % lab,
        'LAB_CA=%s/ca/ca.pem' % lab,
        'LAB_CA_KEY=%s/ca/ca.key' % lab,
        'LAB_CONF=%s/mtasts.conf' % lab,
        'LAB_STORE=%s/store.db' % lab,
        'LAB_POLICY_ID=%s' % POLICY_ID,
        'LAB_SMTP_DIR=%s/smtp' % lab,
        'LAB_SMTP_HOSTS="%s"' % ' '.join(h[0] for h in SMTP_HOSTS),
        'LAB_CLIENT1=%s' % CLIENTS[0][1],
        'LAB_CLIENT2=%s' % CLIENTS[1][1],
        'LAB_ADDRS="%s"' % ' '.join(addrs),
    ]
    for hname, ip, _, _ in SMTP_HOSTS:
        env.append('%s=%s' % (shvar(hname), ip))
    if tlsa:
        env += ['LAB_DNSSEC=1',
                'LAB_RESOLVER=%s' % RESOLVER_IP,
                'LAB_DANE_ZONE=%s' % DANE_ZONE,
                'LAB_DANE_TLSA="%s"' % tlsa]
    write(os.path.join(lab, 'env'), '\n'.join(env) + '\n')
    write(os.path.join(lab, 'mtasts.conf'), '\n'.join([
        '# generated by tests/lab/labgen.py: the engine in the lab',
        'store %s/store.db' % lab,
        'forwarder %s' % DNS_IP,
        'ca_file %s/ca/ca.pem' % lab,
        'dns_timeout 2s',
        'connect_timeout 2s',
        'fetch_timeout 4s',
        'check_interval 0',
    ]) + '\n')


def gen(lab, name, dnssec=False):
    domains = read_domains()
    for sub in ('dns', 'logs', 'nginx'):
        os.makedirs(os.path.join(lab, sub), exist_ok=True)
    ensure_ca(lab)
    write_zone(lab, {'serial': 1, 'records': [list(r) for r in
                                               base_records(domains)]})
    write(os.path.join(lab, 'dns', 'nsd.conf'), NSD_CONF % {
        'ip': DNS_IP, 'dns': os.path.join(lab, 'dns'),
        'logs': os.path.join(lab, 'logs')})
    extra, tlsa = gen_dnssec(lab) if dnssec else ([], None)
    gen_https(lab, domains, extra)
    gen_labd(lab)
    gen_env(lab, name, domains, tlsa)


# ---------------------------------------------------------------- bulk

BULK_SUFFIX = '.bench.test'
BULK_SERVER = """
	server {
		listen %(ip)s:443 ssl;
		server_name %(host)s;
		ssl_certificate %(crt)s;
		ssl_certificate_key %(key)s;
		root %(root)s;
		location / {
			return 404;
		}
		location = /.well-known/mta-sts.txt {
		}
	}
"""


def bulk_certs(lab, hosts):
    """One certificate per host from the test CA, all on one key, made
    8 at a time and kept in LAB_DIR/ca/bulk between runs."""
    ca = ensure_ca(lab)
    d = os.path.join(ca, 'bulk')
    os.makedirs(d, exist_ok=True)
    key = os.path.join(d, 'key.pem')
    if not os.path.exists(key):
        openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt',
                 'ec_paramgen_curve:P-256', '-out', key + '.tmp'])
        os.rename(key + '.tmp', key)
    out, todo = {}, []
    for h in hosts:
        out[h] = os.path.join(d, h + '.pem')
        if not os.path.exists(out[h]):
            todo.append(h)
    while todo:
        batch, todo = todo[:8], todo[8:]
        procs = [(h, subprocess.Popen(
            ['openssl', 'req', '-new', '-x509', '-key', key,
             '-CA', os.path.join(ca, 'ca.pem'),
             '-CAkey', os.path.join(ca, 'ca.key'), '-subj', '/CN=' + h,
             '-addext', 'subjectAltName=DNS:' + h,
             '-addext', 'basicConstraints=critical,CA:FALSE',
             '-addext', 'extendedKeyUsage=serverAuth',
             '-days', '3650', '-out', out[h] + '.tmp'],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
            for h in batch]
        for h, p in procs:
            err = p.communicate()[1]
            if p.returncode != 0:
                die('openssl for %s failed:\n%s' % (h, err.decode()))
            os.rename(out[h] + '.tmp', out[h])
    return out, key


def bulk(lab, n):
    """N enforce domains bNNNN.bench.test like enforce.test (MX 10
    good.mx.test, id POLICY_ID, pattern good.mx.test), replacing earlier
    bulk domains: one zone write, one nginx include file."""
    names = ['b%04d%s' % (i, BULK_SUFFIX) for i in range(1, n + 1)]
    path = os.path.join(lab, 'dns', 'records.json')
    with open(path) as f:
        state = json.load(f)
    recs = [r for r in state['records'] if not r[0].endswith(BULK_SUFFIX)]
    for dom in names:
        recs.append([dom, 'MX', '10 good.mx.test.'])
        recs.append(['_mta-sts.' + dom, 'TXT',
                     txt_rdata('v=STSv1; id=%s' % POLICY_ID)])
        recs.append(['mta-sts.' + dom, 'A', HTTPS_IP])
    certs, key = bulk_certs(lab, ['mta-sts.' + d for d in names])
    conf = ['# generated by labgen.py bulk: %d bench domains\n' % n]
    for dom in names:
        root = os.path.join(lab, 'www', dom)
        write(os.path.join(root, '.well-known', 'mta-sts.txt'),
              policy_body('enforce', ['good.mx.test']))
        host = 'mta-sts.' + dom
        conf.append(BULK_SERVER % {'ip': HTTPS_IP, 'host': host,
                                   'crt': certs[host], 'key': key,
                                   'root': root})
    write(os.path.join(lab, 'nginx-bulk.conf'), ''.join(conf))
    ngx = os.path.join(lab, 'nginx.conf')
    with open(ngx) as f:
        text = f.read()
    inc = '\tinclude %s;\n' % os.path.join(lab, 'nginx-bulk.conf')
    if inc not in text:
        assert text.endswith('}\n')
        write(ngx, text[:-2] + inc + '}\n')
    state['records'] = recs
    state['serial'] += 1
    write_zone(lab, state)
    print(state['serial'])


def main(argv):
    if len(argv) in (4, 5) and argv[1] == 'gen':
        if len(argv) == 5 and argv[4] != 'dnssec':
            die('gen LAB_DIR NAME [dnssec]')
        gen(os.path.abspath(argv[2]), argv[3], len(argv) == 5)
    elif len(argv) >= 5 and argv[1] == 'set-rr':
        set_rr(argv[2], argv[3], argv[4], argv[5:])
    elif len(argv) in (4, 5) and argv[1] == 'cert':
        kind = argv[4] if len(argv) == 5 else 'valid'
        if kind not in ('valid', 'expired', 'self', 'wrong'):
            die('cert kind: valid, expired, self or wrong')
        print('%s %s' % cert(os.path.abspath(argv[2]), argv[3], kind))
    elif len(argv) == 4 and argv[1] == 'bulk' and argv[3].isdigit():
        bulk(os.path.abspath(argv[2]), int(argv[3]))
    else:
        die('usage: gen LAB_DIR NAME [dnssec] | set-rr LAB_DIR NAME TYPE '
            '[RDATA...] | cert LAB_DIR NAME [KIND] | bulk LAB_DIR N')


if __name__ == '__main__':
    main(sys.argv)
