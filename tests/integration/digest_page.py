#!/usr/bin/python3
# digest_page.py PAGE.html - open the HTML digest in headless Chromium
# through the DevTools protocol and print what the test checks, one
# "key value" per line: console messages and exceptions (CSP violations
# are console errors), every request other than the page itself, and
# facts read from the DOM. Host names resolve nowhere (--host-resolver-
# rules) so that a request could not leave the machine even if made.
# Bounded: gives up after 90 seconds (a loaded machine is slow).
import asyncio, json, os, socket, subprocess, sys, tempfile, time, urllib.request
import websockets

PAGE = os.path.abspath(sys.argv[1])
URL = 'file://' + PAGE
JS = r'''
(() => {
  const q = s => Array.from(document.querySelectorAll(s));
  const cells = id => q('#' + id + ' tbody tr').map(tr =>
      Array.from(tr.cells).map(td => td.textContent).join('|'));
  return JSON.stringify({
    scripts: q('script').length, imgs: q('img').length, links: q('a').length,
    iframes: q('iframe').length,
    ok: q('#chart rect.ok').map(r => r.dataset.day + '=' + r.dataset.n),
    fail: q('#chart rect.fail').map(r => r.dataset.day + '=' + r.dataset.n),
    by_result: cells('by-result'), by_org: cells('by-org'),
    failing_mx: cells('failing-mx'), details: q('details').length,
    details_open: q('details[open]').length,
    summary: document.getElementById('summary').textContent,
  });
})()
'''

def free_port():
    s = socket.socket(); s.bind(('127.0.0.1', 0)); p = s.getsockname()[1]; s.close()
    return p

async def main():
    port = free_port()
    prof = tempfile.mkdtemp()
    chrome = subprocess.Popen(['chromium', '--headless', '--no-sandbox',
        '--disable-gpu', '--remote-debugging-port=%d' % port,
        '--user-data-dir=' + prof, '--host-resolver-rules=MAP * ~NOTFOUND',
        '--proxy-server=127.0.0.1:9', 'about:blank'],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 90
        ws_url = None
        while time.time() < deadline and ws_url is None:
            try:
                tabs = json.load(urllib.request.urlopen(
                    'http://127.0.0.1:%d/json/list' % port, timeout=2))
                ws_url = next(t['webSocketDebuggerUrl'] for t in tabs
                              if t.get('type') == 'page')
            except Exception:
                await asyncio.sleep(0.1)
        if ws_url is None:
            print('error devtools-unreachable'); return 1
        async with websockets.connect(ws_url, max_size=None) as ws:
            n = 0
            async def call(method, params=None):
                nonlocal n
                n += 1
                await ws.send(json.dumps({'id': n, 'method': method,
                                          'params': params or {}}))
                return n
            for m in ('Runtime.enable', 'Log.enable', 'Network.enable',
                      'Page.enable'):
                await call(m)
            await call('Page.navigate', {'url': URL})
            # Poll the page until it is ours and loaded (the load event
            # alone can be missed while the first blank page settles).
            probe = ('(document.readyState === "complete" && location.href'
                     ' === %s) ? %s : ""' % (json.dumps(URL), JS.strip()))
            loaded = False
            eval_id = None
            next_probe = 0
            while time.time() < deadline:
                if eval_id is None and not loaded and time.time() >= next_probe:
                    eval_id = await call('Runtime.evaluate',
                                         {'expression': probe,
                                          'returnByValue': True})
                    next_probe = time.time() + 0.3
                try:
                    msg = json.loads(await asyncio.wait_for(ws.recv(), 0.3))
                except asyncio.TimeoutError:
                    continue
                meth = msg.get('method')
                p = msg.get('params', {})
                if meth == 'Runtime.consoleAPICalled':
                    print('console', p.get('type'))
                elif meth == 'Runtime.exceptionThrown':
                    print('exception', p['exceptionDetails'].get('text'))
                elif meth == 'Log.entryAdded':
                    print('log', p['entry'].get('level'),
                          json.dumps(p['entry'].get('text')))
                elif meth == 'Network.requestWillBeSent':
                    u = p['request']['url']
                    if u != URL:
                        print('request', json.dumps(u))
                elif meth == 'Network.loadingFailed':
                    print('failed', json.dumps(p.get('errorText')))
                elif eval_id is not None and msg.get('id') == eval_id:
                    eval_id = None
                    v = msg.get('result', {}).get('result', {}).get('value')
                    if not v:
                        continue
                    loaded = True
                    print('loaded 1')
                    for k, val in json.loads(v).items():
                        print('dom', k, json.dumps(val))
                    # let late events (console, requests) arrive
                    deadline = min(deadline, time.time() + 1)
            if not loaded:
                print('error timeout')
            return 0 if loaded else 1
    finally:
        chrome.terminate()
        try:
            chrome.wait(10)
        except subprocess.TimeoutExpired:
            chrome.kill()
        subprocess.run(['rm', '-rf', prof])

sys.exit(asyncio.run(main()))
