import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEPLOY_DIR, readDeployFile } from './helpers';

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** key=value lines of a systemd unit, by key (repeated keys collected). */
function unitKeys(text: string): Map<string, string[]> {
  const keys = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (m) keys.set(m[1], [...(keys.get(m[1]) ?? []), m[2]]);
  }
  return keys;
}

describe('deploy/snapstore.service', () => {
  const unit = unitKeys(readDeployFile('snapstore.service'));
  const one = (k: string) => {
    expect(unit.get(k), k).toHaveLength(1);
    return unit.get(k)![0];
  };

  it('runs the built app as the snapstore user with the env file', () => {
    expect(one('User')).toBe('snapstore');
    expect(one('Group')).toBe('snapstore');
    expect(one('WorkingDirectory')).toBe('/opt/snapstore');
    expect(one('EnvironmentFile')).toBe('/etc/snapstore/snapstore.env');
    expect(one('ExecStart')).toBe('/usr/bin/node dist/main.js');
    expect(one('Restart')).toBe('on-failure');
    expect(one('WantedBy')).toBe('multi-user.target');
  });

  it('is hardened, writable only in uploads/ and data/', () => {
    expect(one('NoNewPrivileges')).toBe('yes');
    expect(one('ProtectSystem')).toBe('strict');
    expect(one('ReadWritePaths').split(/\s+/)).toEqual(['/opt/snapstore/uploads', '/opt/snapstore/data']);
    for (const k of ['PrivateTmp', 'ProtectHome', 'PrivateDevices', 'ProtectKernelTunables', 'ProtectKernelModules',
      'ProtectKernelLogs', 'ProtectControlGroups', 'RestrictSUIDSGID', 'RestrictNamespaces', 'LockPersonality']) {
      expect(one(k), k).toBe('yes');
    }
    expect(one('CapabilityBoundingSet')).toBe('');
    // would break V8's JIT
    expect(unit.has('MemoryDenyWriteExecute')).toBe(false);
  });

  it.skipIf(!has('systemd-analyze'))('passes systemd-analyze verify', () => {
    const r = spawnSync('systemd-analyze', ['verify', join(DEPLOY_DIR, 'snapstore.service')], { encoding: 'utf8' });
    // only complaints about things missing on this machine (user, /opt/snapstore) are acceptable
    const lines = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim() && !/snapstore.*(No such file|not found)|Failed to resolve user|user snapstore/i.test(l));
    expect(lines).toEqual([]);
  });
});

describe('deploy/nginx-snapstore.conf', () => {
  const conf = readDeployFile('nginx-snapstore.conf');
  const directives = conf
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean);

  it('is the default server on 80 and proxies to 127.0.0.1:3000', () => {
    expect(directives).toContain('listen 80 default_server;');
    expect(directives).toContain('server 127.0.0.1:3000;');
    expect(directives).toContain('proxy_pass http://snapstore_app;');
  });

  it('forwards client address, scheme and host', () => {
    expect(directives).toContain('proxy_set_header X-Forwarded-For   $proxy_add_x_forwarded_for;');
    expect(directives).toContain('proxy_set_header X-Forwarded-Proto $scheme;');
    expect(directives).toContain('proxy_set_header X-Forwarded-Host  $snapstore_forwarded_host;');
    expect(directives).toContain('proxy_set_header X-Real-IP         $remote_addr;');
    expect(directives).toContain('proxy_set_header Host              $snapstore_forwarded_host;');
  });

  it('lets a 2 MiB upload through to the app (the app answers oversize with its own 413)', () => {
    const size = /^client_max_body_size (\d+)m;$/.exec(directives.find((d) => d.startsWith('client_max_body_size'))!);
    expect(size).not.toBeNull();
    expect(Number(size![1])).toBeGreaterThanOrEqual(4);
    expect(directives).toContain('proxy_request_buffering on;');
    for (const t of ['proxy_connect_timeout', 'proxy_send_timeout', 'proxy_read_timeout', 'client_body_timeout']) {
      expect(directives.some((d) => d.startsWith(`${t} `)), t).toBe(true);
    }
  });

  it('gzips text but no raster images', () => {
    const types = directives.find((d) => d.startsWith('gzip_types'))!;
    expect(types).toContain('application/json');
    expect(types).not.toMatch(/image\/(jpeg|png|gif|webp|avif)|\*/);
  });

  it.skipIf(!has('nginx'))('passes nginx -t inside an http {} block', () => {
    const dir = mkdtempSync(join(tmpdir(), 'snapstore-nginx-'));
    const main = join(dir, 'nginx.conf');
    writeFileSync(
      main,
      [
        `pid ${dir}/nginx.pid;`,
        `error_log ${dir}/error.log;`,
        'events {}',
        'http {',
        `  access_log ${dir}/access.log;`,
        `  client_body_temp_path ${dir}/body;`,
        `  proxy_temp_path ${dir}/proxy;`,
        `  include ${join(DEPLOY_DIR, 'nginx-snapstore.conf')};`,
        '}',
        '',
      ].join('\n'),
    );
    const r = spawnSync('nginx', ['-t', '-c', main, '-p', dir], { encoding: 'utf8' });
    expect(r.stderr).toContain('test is successful');
    expect(r.status).toBe(0);
  });
});

describe('deploy/install.sh and deploy/update.sh', () => {
  const install = readDeployFile('install.sh');

  it('builds as documented and installs + enables the unit and the nginx site', () => {
    expect(install).toContain('npm ci --no-audit --no-fund && npm run build && npm prune --omit=dev');
    expect(install).toContain('install -m 0644 "$APP_DIR/deploy/snapstore.service" "$UNIT_DST"');
    expect(install).toContain('install -m 0644 "$APP_DIR/deploy/nginx-snapstore.conf" "$NGINX_DST"');
    expect(install).toContain('UNIT_DST=/etc/systemd/system/snapstore.service');
    expect(install).toContain('NGINX_DST=/etc/nginx/conf.d/snapstore.conf');
    expect(install).toMatch(/^nginx -t$/m);
    expect(install).toMatch(/^systemctl enable nginx snapstore$/m);
    expect(install).toContain('install -d -o "$APP_USER" -g "$APP_USER" -m 0750 "$APP_DIR/uploads" "$APP_DIR/data"');
  });

  it.each(['install.sh', 'update.sh'])('%s is valid bash', (name) => {
    execFileSync('bash', ['-n', join(DEPLOY_DIR, name)]);
  });

  it.skipIf(!has('shellcheck'))('shellcheck is clean', () => {
    execFileSync('shellcheck', [join(DEPLOY_DIR, 'install.sh'), join(DEPLOY_DIR, 'update.sh')]);
  });
});
