// Pruning endpoints.json must not change endpoint resolution for the kept services: compare, with botocore itself,
// the untrimmed tree and the trimmed one across partitions and FIPS / dual-stack variants.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultProfile, optimizeDirectory } from '@4pass/optimizer';
import { keptServices } from '../../../packages/optimizer/src/profile/profile.js';
import { PYTHON, freshCopy, run, targetInstall } from './wheels.js';

const PROBE = `
import json, os, sys
sys.dont_write_bytecode = True
for k in list(os.environ):
    if k.startswith("AWS_"):
        del os.environ[k]
os.environ.update(AWS_ACCESS_KEY_ID="AKIDTEST", AWS_SECRET_ACCESS_KEY="secret", AWS_CONFIG_FILE=os.devnull,
                  AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_EC2_METADATA_DISABLED="true")
import boto3, botocore
from botocore.config import Config

class Sent(Exception):
    pass

OPS = {"ecs": ("list_clusters", {}), "logs": ("describe_log_groups", {}), "secretsmanager": ("list_secrets", {}),
       "sqs": ("list_queues", {}), "sts": ("get_caller_identity", {})}
services, regions = json.loads(sys.argv[1]), json.loads(sys.argv[2])
out = {"botocore": os.path.dirname(botocore.__file__), "results": {}}
for svc in services:
    for region in regions:
        for fips in (False, True):
            for dual in (False, True):
                key = "%s %s fips=%s dualstack=%s" % (svc, region, str(fips).lower(), str(dual).lower())
                try:
                    c = boto3.client(svc, region_name=region, config=Config(use_fips_endpoint=fips,
                                     use_dualstack_endpoint=dual, retries={"max_attempts": 0}))
                    r = {"endpoint": c.meta.endpoint_url, "region": c.meta.region_name,
                         "signing_name": c._request_signer.signing_name, "signing_region": c._request_signer.region_name}
                    if svc in OPS:
                        seen = {}
                        def capture(request, **kw):
                            seen["url"] = request.url
                            auth = request.headers.get("Authorization", b"")
                            auth = auth.decode() if isinstance(auth, bytes) else auth
                            # Credential=AKID/DATE/REGION/SERVICE/aws4_request: keep the scope, not the date.
                            seen["scope"] = "/".join(auth.split(",")[0].split("/")[2:])
                            raise Sent()
                        c.meta.events.register("before-send", capture)
                        try:
                            getattr(c, OPS[svc][0])(**OPS[svc][1])
                        except Sent:
                            pass
                        r.update(seen)
                except Exception as e:
                    r = {"error": type(e).__name__}
                out["results"][key] = r
print(json.dumps(out))
`;

const REGIONS = ['us-east-1', 'eu-west-1', 'ap-northeast-1', 'us-gov-west-1', 'cn-north-1', 'us-iso-east-1'];

interface Probe {
  botocore: string;
  results: Record<string, { endpoint?: string; error?: string; url?: string; scope?: string; signing_region?: string }>;
}

let work: string;
let trimmed: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  const copy = await freshCopy(await targetInstall());
  trimmed = copy.dir;
  cleanup = copy.cleanup;
  await optimizeDirectory(trimmed, defaultProfile);
  work = await mkdtemp(path.join(tmpdir(), '4pass-endpoints-'));
  await writeFile(path.join(work, 'probe.py'), PROBE);
}, 300_000);
afterAll(async () => {
  await cleanup();
  await rm(work, { recursive: true, force: true });
});

async function probe(site: string): Promise<Probe> {
  const services = keptServices(defaultProfile);
  const { stdout } = await run(
    PYTHON,
    ['-s', '-B', path.join(work, 'probe.py'), JSON.stringify(services), JSON.stringify(REGIONS)],
    {
      env: { ...process.env, PYTHONPATH: site },
      maxBuffer: 1 << 26,
    },
  );
  return JSON.parse(stdout) as Probe;
}

describe('pruned endpoints.json', () => {
  it('resolves the same endpoint, region and signing scope as the untrimmed data', async () => {
    const source = await targetInstall();
    const [full, slim] = await Promise.all([probe(source), probe(trimmed)]);
    expect(full.botocore.startsWith(source)).toBe(true);
    expect(slim.botocore.startsWith(trimmed)).toBe(true);
    expect(Object.keys(full.results)).toHaveLength(keptServices(defaultProfile).length * REGIONS.length * 4);
    expect(slim.results).toEqual(full.results);
    // The comparison is meaningful: real endpoints, FIPS and dual-stack variants included.
    expect(full.results['sqs us-east-1 fips=true dualstack=false']?.url).toBe(
      'https://sqs-fips.us-east-1.amazonaws.com/',
    );
    expect(full.results['sts eu-west-1 fips=false dualstack=true']?.endpoint).toBe('https://sts.eu-west-1.api.aws');
    expect(full.results['ecs cn-north-1 fips=false dualstack=false']?.endpoint).toBe(
      'https://ecs.cn-north-1.amazonaws.com.cn',
    );
    expect(full.results['logs ap-northeast-1 fips=false dualstack=false']?.scope).toBe(
      'ap-northeast-1/logs/aws4_request',
    );
  });

  it('control: an endpoints.json pruned too far changes FIPS endpoints in GovCloud / ISO, and the probe sees it', async () => {
    const { readFile } = await import('node:fs/promises');
    const file = path.join(trimmed, 'botocore/data/endpoints.json');
    const original = await readFile(file);
    const data = JSON.parse(original.toString('utf8')) as { partitions: { services: object }[] };
    for (const p of data.partitions) p.services = {};
    await writeFile(file, JSON.stringify(data));
    try {
      const [full, broken] = await Promise.all([probe(await targetInstall()), probe(trimmed)]);
      expect(broken.results).not.toEqual(full.results);
      expect(broken.results['sqs us-gov-west-1 fips=true dualstack=false']?.endpoint).not.toBe(
        full.results['sqs us-gov-west-1 fips=true dualstack=false']?.endpoint,
      );
    } finally {
      await writeFile(file, original);
    }
  });
});
