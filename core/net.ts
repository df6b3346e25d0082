/**
 * Whether a host name (as URL.hostname gives it) is this machine's loopback interface:
 * `localhost`, the IPv6 loopback `[::1]`, or an IPv4 address in 127.0.0.0/8 written as four
 * decimal parts. Nothing else counts, not even a name that begins "127." (127.example.com is
 * somebody's server). Loopback is where local runs keep their stand-ins (sandbox Graph and ODS,
 * a file server for OneDrive), so only there are plain http and missing credentials accepted.
 */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(hostname);
}

/** Whether a URL points at this machine's loopback interface (see isLoopbackHost); an unparseable one does not. */
export function isLoopbackUrl(url: string | URL): boolean {
  if (typeof url !== 'string') return isLoopbackHost(url.hostname);
  return URL.canParse(url) && isLoopbackHost(new URL(url).hostname);
}
