// The PouchDB baseline of bench/bench_pouchdb.py: PouchDB 9 (LevelDB on disk) replicating to
// pouchdb-server 4.2 (a child process, LevelDB on disk) over loopback, batches of 100.
//
//   node run.js --workdir DIR [--docs 10000] [--doc-bytes 448] [--batch 100] [--photos DIR]
//
// Prints one JSON object on stdout: docs/s for push (local -> server) and pull (server -> a fresh
// local database), and, with --photos, MB/s (10^6 bytes) for the files of DIR sent as attachments
// (one document per photo) to the server and replicated back into a fresh local database.
'use strict';

const fs = require('fs');
const net = require('net');
const path = require('path');
const http = require('http');
const { spawn } = require('child_process');
const PouchDB = require('pouchdb');

function args() {
  const out = { docs: 10000, docBytes: 448, batch: 100, photos: null, workdir: null };
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i += 2) {
    const v = a[i + 1];
    if (a[i] === '--docs') out.docs = Number(v);
    else if (a[i] === '--doc-bytes') out.docBytes = Number(v);
    else if (a[i] === '--batch') out.batch = Number(v);
    else if (a[i] === '--photos') out.photos = v;
    else if (a[i] === '--workdir') out.workdir = v;
    else throw new Error(`unknown argument ${a[i]}`);
  }
  if (!out.workdir) throw new Error('--workdir is required');
  return out;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function ping(url) {
  return new Promise((resolve) => {
    http.get(url, (res) => { res.resume(); resolve(res.statusCode === 200); })
      .on('error', () => resolve(false));
  });
}

async function startServer(workdir) {
  const dir = path.join(workdir, 'server');
  fs.mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const bin = path.join(__dirname, 'node_modules', 'pouchdb-server', 'bin', 'pouchdb-server');
  const child = spawn(process.execPath, [bin, '--port', String(port), '--host', '127.0.0.1',
    '--dir', dir, '--config', path.join(dir, 'config.json'), '--no-stdout-logs'],
  { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    if (await ping(base + '/')) return { base, child };
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill();
  throw new Error('pouchdb-server did not start');
}

// An inspection record whose JSON (with its _id) is exactly `bytes` long, like the issue's.
function makeDocs(n, bytes) {
  const docs = [];
  for (let i = 0; i < n; i++) {
    const doc = {
      _id: `case-${String(i).padStart(8, '0')}`,
      type: 'inspection',
      category: 'waterlogging',
      status: 'discovered',
      source: 'inspection',
      location: { lat: 35.7215, lon: 116.4877 },
      reporter: 'inspector',
      created_at: new Date().toISOString(),
      description: '',
    };
    const pad = bytes - Buffer.byteLength(JSON.stringify(doc));
    doc.description = '路口积水'.padEnd(Math.max(0, pad - 8), ' x');
    while (Buffer.byteLength(JSON.stringify(doc)) > bytes) doc.description = doc.description.slice(0, -1);
    while (Buffer.byteLength(JSON.stringify(doc)) < bytes) doc.description += 'x';
    docs.push(doc);
  }
  return docs;
}

async function timedReplication(from, to, batch) {
  const start = process.hrtime.bigint();
  const result = await PouchDB.replicate(from, to, { batch_size: batch, batches_limit: 10 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (!result.ok || result.doc_write_failures) throw new Error(`replication failed: ${JSON.stringify(result)}`);
  return { seconds, written: result.docs_written };
}

async function main() {
  const opt = args();
  const local = (name) => new PouchDB(path.join(opt.workdir, name));
  const { base, child } = await startServer(opt.workdir);
  const out = { pouchdb: require('pouchdb/package.json').version,
    pouchdb_server: require('pouchdb-server/package.json').version, batch: opt.batch };
  try {
    // Warm-up: connections and code paths on both sides.
    const warm = local('warm');
    await warm.bulkDocs(makeDocs(200, opt.docBytes));
    await timedReplication(warm, `${base}/warm`, opt.batch);

    const docs = makeDocs(opt.docs, opt.docBytes);
    const source = local('source');
    for (let i = 0; i < docs.length; i += 1000) await source.bulkDocs(docs.slice(i, i + 1000));
    const push = await timedReplication(source, `${base}/cases`, opt.batch);
    const pull = await timedReplication(`${base}/cases`, local('pulled'), opt.batch);
    if (push.written !== opt.docs || pull.written !== opt.docs) {
      throw new Error(`pushed ${push.written}, pulled ${pull.written} of ${opt.docs}`);
    }
    Object.assign(out, { docs: opt.docs, doc_bytes: Buffer.byteLength(JSON.stringify(docs[0])),
      push_docs_per_s: opt.docs / push.seconds, pull_docs_per_s: opt.docs / pull.seconds });

    if (opt.photos) {
      const files = fs.readdirSync(opt.photos).filter((f) => f.endsWith('.jpg')).sort();
      const photos = local('photos');
      let total = 0;
      for (const f of files) {
        const data = fs.readFileSync(path.join(opt.photos, f));
        total += data.length;
        await photos.put({ _id: `photo-${f}`, type: 'photo',
          _attachments: { [f]: { content_type: 'image/jpeg', data } } });
      }
      const up = await timedReplication(photos, `${base}/photos`, opt.batch);
      const down = await timedReplication(`${base}/photos`, local('photos-pulled'), opt.batch);
      if (up.written !== files.length || down.written !== files.length) {
        throw new Error(`photos: sent ${up.written}, fetched ${down.written} of ${files.length}`);
      }
      Object.assign(out, { photos: files.length, photo_bytes: total,
        photo_upload_mb_per_s: total / 1e6 / up.seconds,
        photo_download_mb_per_s: total / 1e6 / down.seconds });
    }
  } finally {
    child.kill();
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((err) => { console.error(err && err.stack ? err.stack : err); process.exit(1); });
