// Stands in for `@aws-sdk/endpoint-cache` in every bundle (see infra/bundling.ts). The DynamoDB
// client builds one for endpoint discovery, which is off unless AWS_ENABLE_ENDPOINT_DISCOVERY or
// the client turns it on (the product does neither; no DynamoDB operation requires it), and reads
// it on every call (middleware-endpoint-discovery endpointDiscoveryMiddleware.js): the cache stays
// empty. The package's LRU (mnemonist with obliterator, ≈ 8 KB per bundle) only bounds a cache
// with one entry per credentials and operation; a Map keeps the same answers
// (test/infra/bundling-stubs.test.ts runs both on the same calls).
class EndpointCache {
  constructor() {
    this.cache = new Map();
  }
  getEndpoint(key) {
    const endpoints = this.get(key);
    if (!endpoints || endpoints.length === 0) return undefined;
    return endpoints.map((e) => e.Address)[Math.floor(Math.random() * endpoints.length)];
  }
  get(key) {
    const value = this.has(key) ? this.cache.get(key) : undefined;
    if (!value) return undefined;
    const now = Date.now();
    const live = value.filter((endpoint) => now < endpoint.Expires);
    if (live.length === 0) {
      this.delete(key);
      return undefined;
    }
    return live;
  }
  set(key, endpoints) {
    const now = Date.now();
    this.cache.set(
      key,
      endpoints.map(({ Address, CachePeriodInMinutes }) => ({
        Address,
        Expires: now + CachePeriodInMinutes * 60 * 1000,
      })),
    );
  }
  delete(key) {
    this.cache.set(key, []);
  }
  has(key) {
    const endpoints = this.cache.get(key);
    return !!endpoints && endpoints.length > 0;
  }
  clear() {
    this.cache.clear();
  }
}
exports.EndpointCache = EndpointCache;
