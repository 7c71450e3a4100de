// The journey of a user of the official Weaviate TypeScript client against
// a running Strata: connect (REST + gRPC), create a collection (the client
// gives it the named vector "default"), insertMany, count, nearVector,
// fetchObjectById, filtered fetch, deleteMany, back up to the filesystem,
// delete the collection, restore it and find every object again.
//
//   STRATA_HTTP_PORT=8080 STRATA_GRPC_PORT=50051 node journey.mjs
//
// Optional: STRATA_HOST (default 127.0.0.1), STRATA_API_KEY.
// Exits 0 when everything matches, 1 with a message naming the mismatch.

import weaviate from 'weaviate-client';

const host = process.env.STRATA_HOST || '127.0.0.1';
const httpPort = Number(process.env.STRATA_HTTP_PORT);
const grpcPort = Number(process.env.STRATA_GRPC_PORT);
const apiKey = process.env.STRATA_API_KEY;

class Mismatch extends Error {}

function check(cond, msg) {
  if (!cond) throw new Mismatch(msg);
}

function step(name) {
  console.log(`-- ${name}`);
}

// Deterministic data: vectors of exactly representable float32 values, so
// that what comes back can be compared for equality.
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function uuidFor(i) {
  return `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
}

const N = 40;
const DIM = 8;
const next = rng(7);
const objects = Array.from({ length: N }, (_, i) => ({
  id: uuidFor(i + 1),
  properties: {
    title: `object ${i}`,
    count: i,
    score: i / 4,
    tags: [`t${i % 3}`, 'all'],
    published: new Date(Date.UTC(2024, 0, 1 + i)),
    flag: i % 2 === 0,
  },
  vector: Array.from({ length: DIM }, () => Math.fround(next() * 2 - 1)),
}));
const byId = new Map(objects.map((o) => [o.id, o]));

function cosineDistance(a, b) {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return 1 - dot / Math.sqrt(na * nb);
}

function sameVector(got, want) {
  return Array.isArray(got) && got.length === want.length && got.every((v, i) => v === want[i]);
}

function checkObject(what, got, want) {
  check(got !== undefined, `${what}: object ${want.id} missing`);
  check(got.uuid === want.id, `${what}: uuid ${got.uuid}, want ${want.id}`);
  const p = got.properties;
  const w = want.properties;
  check(p.title === w.title, `${what}: title ${JSON.stringify(p.title)}, want ${JSON.stringify(w.title)}`);
  check(p.count === w.count, `${what}: count ${p.count}, want ${w.count}`);
  check(p.score === w.score, `${what}: score ${p.score}, want ${w.score}`);
  check(JSON.stringify(p.tags) === JSON.stringify(w.tags), `${what}: tags ${JSON.stringify(p.tags)}, want ${JSON.stringify(w.tags)}`);
  check(p.published instanceof Date && p.published.getTime() === w.published.getTime(),
    `${what}: published ${p.published}, want ${w.published.toISOString()}`);
  check(p.flag === w.flag, `${what}: flag ${p.flag}, want ${w.flag}`);
  check(sameVector(got.vectors?.default, want.vector),
    `${what}: vectors.default ${JSON.stringify(got.vectors?.default)}, want ${JSON.stringify(want.vector)}`);
}

async function checkNearVector(what, collection, query, survivors) {
  const res = await collection.query.nearVector(query, { limit: 5, returnMetadata: ['distance'], includeVector: true });
  const expected = survivors
    .map((o) => ({ id: o.id, d: cosineDistance(query, o.vector) }))
    .sort((a, b) => a.d - b.d)
    .slice(0, 5);
  check(res.objects.length === expected.length, `${what}: ${res.objects.length} results, want ${expected.length}`);
  res.objects.forEach((o, i) => {
    check(o.uuid === expected[i].id, `${what}: result ${i} is ${o.uuid}, want ${expected[i].id}`);
    check(Math.abs(o.metadata.distance - expected[i].d) < 1e-5,
      `${what}: result ${i} distance ${o.metadata.distance}, want ${expected[i].d}`);
    checkObject(`${what} result ${i}`, o, byId.get(o.uuid));
  });
  return res.objects.map((o) => o.uuid);
}

async function checkAll(what, collection, want) {
  const res = await collection.query.fetchObjects({ limit: 1000, includeVector: true });
  check(res.objects.length === want.length, `${what}: ${res.objects.length} objects, want ${want.length}`);
  const got = new Map(res.objects.map((o) => [o.uuid, o]));
  for (const w of want) checkObject(what, got.get(w.id), w);
  check((await collection.length()) === want.length, `${what}: length() differs from ${want.length}`);
}

async function main() {
  check(httpPort > 0 && grpcPort > 0, 'set STRATA_HTTP_PORT and STRATA_GRPC_PORT');
  step(`connect to ${host}:${httpPort} (gRPC ${grpcPort})`);
  const client = await weaviate.connectToLocal({
    host,
    port: httpPort,
    grpcPort,
    authCredentials: apiKey ? new weaviate.ApiKey(apiKey) : undefined,
  });
  try {
    check(await client.isReady(), 'client.isReady() is false');
    const name = 'TsJourney';
    if (await client.collections.exists(name)) await client.collections.delete(name);

    step('create collection');
    const collection = await client.collections.create({
      name,
      properties: [
        { name: 'title', dataType: 'text' },
        { name: 'count', dataType: 'int' },
        { name: 'score', dataType: 'number' },
        { name: 'tags', dataType: 'text[]' },
        { name: 'published', dataType: 'date' },
        { name: 'flag', dataType: 'boolean' },
      ],
      vectorizers: weaviate.configure.vectors.selfProvided(),
    });
    const config = await collection.config.get();
    check(config.vectorizers.default !== undefined,
      `collection config has vectorizers ${JSON.stringify(Object.keys(config.vectorizers ?? {}))}, want "default"`);

    step('insertMany');
    // Half with a plain vector, half with the named vector, as users write both.
    const res = await collection.data.insertMany(objects.map((o, i) => ({
      id: o.id,
      properties: o.properties,
      vectors: i % 2 === 0 ? o.vector : { default: o.vector },
    })));
    check(!res.hasErrors, `insertMany errors: ${JSON.stringify(res.errors)}`);
    check(Object.keys(res.uuids).length === N, `insertMany: ${Object.keys(res.uuids).length} uuids, want ${N}`);
    check((await collection.length()) === N, `length() after insertMany is not ${N}`);

    step('nearVector');
    const query = objects[11].vector;
    const before = await checkNearVector('nearVector', collection, query, objects);
    check(before[0] === objects[11].id, `nearVector: first result ${before[0]}, want the queried object ${objects[11].id}`);

    step('fetchObjectById');
    const one = await collection.query.fetchObjectById(objects[5].id, { includeVector: true });
    checkObject('fetchObjectById', one, objects[5]);
    const none = await collection.query.fetchObjectById('00000000-0000-4000-8000-ffffffffffff');
    check(none === null, `fetchObjectById of a missing id: ${JSON.stringify(none)}, want null`);

    step('fetchObjects with a filter');
    const filtered = await collection.query.fetchObjects({
      filters: collection.filter.byProperty('count').greaterOrEqual(N - 3),
      limit: 100,
    });
    const filteredIds = filtered.objects.map((o) => o.uuid).sort();
    const wantFiltered = objects.slice(N - 3).map((o) => o.id).sort();
    check(JSON.stringify(filteredIds) === JSON.stringify(wantFiltered),
      `filter count >= ${N - 3}: ${JSON.stringify(filteredIds)}, want ${JSON.stringify(wantFiltered)}`);

    step('deleteMany');
    const del = await collection.data.deleteMany(collection.filter.byProperty('count').lessThan(4));
    check(del.matches === 4 && del.successful === 4 && del.failed === 0, `deleteMany: ${JSON.stringify(del)}`);
    const survivors = objects.slice(4);
    await checkAll('after deleteMany', collection, survivors);
    const expectedNear = await checkNearVector('nearVector after deleteMany', collection, query, survivors);

    step('backup');
    const backupId = `ts-journey-${Date.now()}`;
    const created = await client.backup.create({
      backupId,
      backend: 'filesystem',
      includeCollections: [name],
      waitForCompletion: true,
    });
    check(created.status === 'SUCCESS', `backup status ${created.status}`);

    step('delete the collection');
    await client.collections.delete(name);
    check(!(await client.collections.exists(name)), 'collection still exists after delete');

    step('restore');
    const restored = await client.backup.restore({
      backupId,
      backend: 'filesystem',
      includeCollections: [name],
      waitForCompletion: true,
    });
    check(restored.status === 'SUCCESS', `restore status ${restored.status}`);
    check(await client.collections.exists(name), 'collection missing after restore');

    step('check the restored objects');
    const back = client.collections.get(name);
    await checkAll('after restore', back, survivors);
    const afterNear = await checkNearVector('nearVector after restore', back, query, survivors);
    check(JSON.stringify(afterNear) === JSON.stringify(expectedNear),
      `nearVector after restore: ${JSON.stringify(afterNear)}, before backup: ${JSON.stringify(expectedNear)}`);

    await client.collections.delete(name);
  } finally {
    await client.close();
  }
  console.log('OK: the TypeScript client journey passed');
}

main().catch((err) => {
  if (err instanceof Mismatch) {
    console.error(`MISMATCH: ${err.message}`);
  } else {
    console.error('ERROR:', err);
  }
  process.exit(1);
});
