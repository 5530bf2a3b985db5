import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { functionBundling, PROJECT_ROOT } from '../../infra/bundling';

// The aliases of infra/bundling.ts that are not "throw if reached" stubs: the slack bundle's
// narrower `@slack/bolt` entry must give functions/ the very objects the package gives. (That the
// stubs stay unreached is checked on the real bundles: test/bench/bench.test.ts runs them on a
// first event, test/infra/synth-and-nag.test.ts reads what they carry.)

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(file);
    return entry.name.endsWith('.ts') ? [file] : [];
  });
}

/** Names functions/ imports as values (not `type`) from a module. */
function valueImports(module: string): Set<string> {
  const names = new Set<string>();
  const pattern = new RegExp(`import\\s+(type\\s+)?\\{([^}]*)\\}\\s+from\\s+'${module}'`, 'g');
  for (const file of sourceFiles(path.join(PROJECT_ROOT, 'functions'))) {
    for (const match of readFileSync(file, 'utf8').matchAll(pattern)) {
      if (match[1]) continue;
      for (const specifier of (match[2] ?? '').split(',').map((s) => s.trim())) {
        if (specifier && !specifier.startsWith('type ')) names.add(specifier.split(/\s+as\s+/)[0] as string);
      }
    }
  }
  return names;
}

describe('the slack bundle’s @slack/bolt entry', () => {
  const alias = functionBundling('slack').alias['@slack/bolt'] as string;
  const entry = require(path.join(PROJECT_ROOT, alias)) as Record<string, unknown>;
  const bolt = require('@slack/bolt') as Record<string, unknown>;

  it('exports every value functions/ imports from @slack/bolt, as the same object', () => {
    const imported = [...valueImports('@slack/bolt')].sort();

    expect(imported).toEqual(['App', 'AwsLambdaReceiver', 'HTTPReceiver', 'LogLevel', 'verifySlackRequest']);
    for (const name of imported)
      expect({ name, same: entry[name] === bolt[name] }).toEqual({ name, same: true });
  });
});

describe('the bundles’ @aws-sdk/endpoint-cache', () => {
  const alias = functionBundling('grant').alias['@aws-sdk/endpoint-cache'] as string;
  const { EndpointCache: Ours } = require(path.join(PROJECT_ROOT, alias)) as {
    EndpointCache: new (capacity: number) => EndpointCacheLike;
  };
  const { EndpointCache: Sdk } = require('@aws-sdk/endpoint-cache') as {
    EndpointCache: new (capacity: number) => EndpointCacheLike;
  };
  interface EndpointCacheLike {
    getEndpoint(key: string): string | undefined;
    get(key: string): Array<{ Address: string; Expires: number }> | undefined;
    set(key: string, endpoints: Array<{ Address: string; CachePeriodInMinutes: number }>): void;
    delete(key: string): void;
    has(key: string): boolean;
    clear(): void;
  }

  it('answers the calls the SDK makes as the package does', () => {
    const now = jest.spyOn(Date, 'now').mockReturnValue(1_000_000);
    try {
      const answers = (cache: EndpointCacheLike) => {
        const seen: unknown[] = [cache.getEndpoint('{"accessKeyId":"A"}'), cache.has('k')];
        cache.set('k', [{ Address: 'a.example', CachePeriodInMinutes: 1 }]);
        seen.push(cache.has('k'), cache.getEndpoint('k'), cache.get('k'));
        now.mockReturnValue(1_000_000 + 61_000);
        seen.push(cache.getEndpoint('k'), cache.has('k'));
        cache.set('k', [{ Address: 'b.example', CachePeriodInMinutes: 5 }]);
        cache.delete('k');
        seen.push(cache.has('k'), cache.get('k'));
        cache.set('j', [{ Address: 'c.example', CachePeriodInMinutes: 5 }]);
        cache.clear();
        seen.push(cache.has('j'));
        now.mockReturnValue(1_000_000);
        return seen;
      };
      const ours = answers(new Ours(1000));
      expect(ours).toEqual(answers(new Sdk(1000)));
      expect(ours.slice(0, 4)).toEqual([undefined, false, true, 'a.example']);
    } finally {
      now.mockRestore();
    }
  });
});
