import assert from 'node:assert/strict';
import { isLoopbackHost, isLoopbackUrl } from '../../core/net';

describe('core/net: isLoopback, one rule for every caller', () => {
  const cases: Array<[url: string, loopback: boolean]> = [
    ['http://localhost:3978/api/messages', true],
    ['http://127.0.0.1:4000', true],
    ['https://127.0.0.1/', true],
    ['http://127.1.2.3:8080/x', true],
    ['http://127.255.255.255', true],
    ['http://[::1]:4000/v1.0', true],
    ['http://127.example.com', false],
    ['http://127.0.0.1.nip.io', false],
    ['http://localhost.evil.example', false],
    ['http://evil-localhost', false],
    ['http://128.0.0.1', false],
    ['http://10.0.0.1', false],
    ['http://0.0.0.0:3978', false],
    ['http://[::2]', false],
    ['http://[::ffff:127.0.0.1]', false],
    ['https://graph.microsoft.com/v1.0', false],
    ['https://contoso-my.sharepoint.com/personal/x', false],
  ];
  for (const [url, loopback] of cases) {
    it(`${url}: ${loopback ? 'loopback' : 'not loopback'}`, () => {
      assert.equal(isLoopbackUrl(url), loopback);
      assert.equal(isLoopbackUrl(new URL(url)), loopback);
      assert.equal(isLoopbackHost(new URL(url).hostname), loopback);
    });
  }

  it('a name in any case is normalised by URL before the check', () => {
    assert.equal(isLoopbackUrl('http://LOCALHOST:3978'), true);
  });

  it('an unparseable URL is not loopback', () => {
    assert.equal(isLoopbackUrl('not a url'), false);
    assert.equal(isLoopbackUrl(''), false);
  });
});
